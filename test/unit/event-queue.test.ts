import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../src/chat/event-queue.ts';
import type { RoomEvent } from '../../src/chat/types.ts';
import { within } from '../utils/wait.ts';

const message = (seq: number): RoomEvent => ({
  kind: 'message',
  roomId: 'r',
  message: {
    id: `r:${seq}`,
    roomId: 'r',
    seq,
    author: { id: 'a', name: 'A' },
    body: `m${seq}`,
    sentAt: '2026-01-01T00:00:00.000Z',
    clientMessageId: null,
  },
});
const typing = (): RoomEvent => ({
  kind: 'typing',
  roomId: 'r',
  user: { id: 'a', name: 'A' },
  typing: true,
  at: '2026-01-01T00:00:00.000Z',
});

async function drain(queue: EventQueue, count: number): Promise<RoomEvent[]> {
  const events: RoomEvent[] = [];
  for (let i = 0; i < count; i++) {
    const step = await queue.next();
    if (step.done) break;
    events.push(step.value);
  }
  return events;
}

describe('EventQueue', () => {
  it('does not count a replay of stored history against the live bound', async () => {
    const queue = new EventQueue({ maxQueued: 5 });
    for (let seq = 1; seq <= 12; seq++) queue.pushReplayed(message(seq));
    for (let seq = 13; seq <= 17; seq++) queue.push(message(seq));
    const events = await drain(queue, 17);
    expect(events.map((e) => (e.kind === 'message' ? e.message.seq : 0))).toEqual(Array.from({ length: 17 }, (_, i) => i + 1));
  });

  it('fails the reader with UNAVAILABLE past the live bound, after what was queued before it', async () => {
    const queue = new EventQueue({ maxQueued: 3 });
    for (let seq = 1; seq <= 4; seq++) queue.push(message(seq));
    expect((await drain(queue, 3)).length).toBe(3);
    await expect(queue.next()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(queue.closed).toBe(true);
  });

  it('drops typing events, never messages, once the reader is behind', async () => {
    const queue = new EventQueue({ maxQueued: 100, dropEphemeralAbove: 2 });
    queue.push(message(1));
    queue.push(message(2));
    queue.push(typing());
    queue.push(message(3));
    expect((await drain(queue, 3)).map((e) => e.kind)).toEqual(['message', 'message', 'message']);
  });

  it('hands queued and later events to a piped consumer, in order, and still reports the end', async () => {
    const queue = new EventQueue();
    queue.pushReplayed(message(1));
    queue.push(message(2));
    const seen: number[] = [];
    queue.pipe({
      onEvent: (event) => seen.push(event.kind === 'message' ? event.message.seq : 0),
      onFailure: () => undefined,
    });
    queue.push(message(3));
    expect(seen).toEqual([1, 2, 3]);
    const end = queue.next();
    await queue.return();
    expect(await end).toEqual({ value: undefined, done: true });
  });

  it('tells a piped consumer of a failure once, after the events queued before it, and ends the stream', async () => {
    const queue = new EventQueue();
    queue.push(message(1));
    const seen: number[] = [];
    const failures: string[] = [];
    const consumer = {
      onEvent: (event: RoomEvent) => seen.push(event.kind === 'message' ? event.message.seq : 0),
      onFailure: (error: Error) => failures.push(error.message),
    };
    queue.pipe(consumer);
    queue.fail(new Error('hub lost'));
    queue.fail(new Error('again'));
    queue.push(message(2));
    expect(seen).toEqual([1]);
    expect(failures).toEqual(['hub lost']);
    expect(queue.closed).toBe(true);
  });

  it('hands a failure that came before the pipe to the consumer when it is piped', () => {
    const queue = new EventQueue();
    queue.push(message(1));
    queue.fail(new Error('hub lost'));
    const order: string[] = [];
    queue.pipe({ onEvent: () => order.push('event'), onFailure: (error) => order.push(error.message) });
    expect(order).toEqual(['event', 'hub lost']);
  });

  it('tells a replay when its reader has taken every replayed event, not before', async () => {
    const queue = new EventQueue();
    await queue.replayTaken();
    for (let seq = 1; seq <= 3; seq++) queue.pushReplayed(message(seq));
    queue.push(message(4));
    let taken = false;
    const replayTaken = queue.replayTaken().then(() => (taken = true));
    await drain(queue, 2);
    await Promise.resolve();
    expect(taken).toBe(false);
    await drain(queue, 1);
    await replayTaken;
    expect(taken).toBe(true);
    // Live events still queued do not hold a replay back.
    await queue.replayTaken();
    expect((await drain(queue, 1)).map((e) => (e.kind === 'message' ? e.message.seq : 0))).toEqual([4]);
  });

  it('releases a waiting replay when the reader ends the stream', async () => {
    const queue = new EventQueue();
    queue.pushReplayed(message(1));
    const replayTaken = queue.replayTaken();
    await queue.return();
    await within(replayTaken, 1_000, 'the replay to be released');
    expect(queue.ended).toBe(true);
  });
});
