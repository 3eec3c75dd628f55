import { describe, expect, it } from 'vitest';
import type { UserEvent } from '../../src/chat/types.ts';
import { UserEventQueue } from '../../src/chat/user-event-queue.ts';

const at = '2026-01-01T00:00:00.000Z';
const event = (n: number): UserEvent => ({
  kind: 'roomAvailable',
  room: { id: `r${n}`, name: `room ${n}`, private: false, createdAt: at, createdBy: 'alice', members: [] },
  at,
});

describe('UserEventQueue: one userEvents subscriber', () => {
  it('keeps the newest `max` events when its reader falls behind (drops the oldest), and stays open', async () => {
    let closed = 0;
    const queue = new UserEventQueue(3, () => closed++);
    for (let n = 1; n <= 5; n++) queue.deliver(event(n));
    expect(queue.dropped).toBe(2);
    const read = [await queue.next(), await queue.next(), await queue.next()].map((step) =>
      step.done ? null : step.value.kind === 'roomAvailable' && step.value.room.id,
    );
    expect(read).toEqual(['r3', 'r4', 'r5']);
    queue.deliver(event(6));
    expect(await queue.next()).toEqual({ value: event(6), done: false });
    expect(closed).toBe(0);
  });

  it('hands an event straight to a waiting reader, and return() ends an idle reader at once, once', async () => {
    let closed = 0;
    const queue = new UserEventQueue(3, () => closed++);
    const waiting = queue.next();
    queue.deliver(event(1));
    expect(await waiting).toEqual({ value: event(1), done: false });
    const idle = queue.next();
    await queue.return();
    await queue.return();
    expect(await idle).toEqual({ value: undefined, done: true });
    queue.deliver(event(2));
    expect(await queue.next()).toEqual({ value: undefined, done: true });
    expect(closed).toBe(1);
  });
});
