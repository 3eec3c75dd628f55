import { describe, expect, it, onTestFinished } from 'vitest';
import { createMemoryAdapters } from '../../src/adapters/memory/index.ts';
import { createChat } from '../../src/chat/index.ts';
import { silentLogger } from '../../src/chat/logger.ts';
import { createRoomEventService } from '../../src/chat/room-events.ts';
import type { ChatAdapters, MessageStore } from '../../src/chat/ports/index.ts';
import { useBackends } from '../contract/backends.ts';
import type { RoomEvent, Viewer } from '../../src/chat/types.ts';
import { waitFor, within } from '../utils/wait.ts';

const viewer = (id: string): Viewer => ({ id, name: id.toUpperCase(), roles: [], expiresAt: Date.now() + 3_600_000 });
const alice = viewer('alice');

const memoryAdapters = () => createMemoryAdapters({ logger: silentLogger, historyLimit: 10_000, messageRate: 1_000, messageBurst: 1_000 });

/** The real store, with every history page it reads counted, per room. */
function countingStore(store: MessageStore) {
  const pages = new Map<string, number>();
  const counted: MessageStore = {
    ...store,
    async after(roomId, afterSeq, limit) {
      pages.set(roomId, (pages.get(roomId) ?? 0) + 1);
      return store.after(roomId, afterSeq, limit);
    },
  };
  return { store: counted, pagesRead: (roomId: string) => pages.get(roomId) ?? 0 };
}

function startChat(options: { maxReplaysPerUser?: number } = {}, adapters: ChatAdapters = memoryAdapters()) {
  const counting = countingStore(adapters.messages);
  const chat = createChat({ adapters: { ...adapters, messages: counting.store }, logger: silentLogger, ...options });
  onTestFinished(() => chat.close(100));
  const append = (roomId: string, body: string) =>
    adapters.messages.append({ roomId, author: { id: 'bob', name: 'Bob' }, body, sentAt: new Date().toISOString(), clientMessageId: null });
  const room = async (messages: number) => {
    const { id } = await chat.rooms.create(alice, { name: 'replayed' });
    for (let i = 1; i <= messages; i++) await append(id, `m${i}`);
    return id;
  };
  return { chat, append, room, pagesRead: counting.pagesRead, store: counting.store };
}

/** A few turns of the event loop: time enough for a replay that did not wait for its reader to read ahead. */
async function turns(count = 10): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

async function take(stream: AsyncIterator<RoomEvent>, count: number): Promise<RoomEvent[]> {
  const events: RoomEvent[] = [];
  while (events.length < count) {
    const step = await within(stream.next(), 5_000, `event ${events.length + 1} of ${count}`);
    if (step.done) break;
    events.push(step.value);
  }
  return events;
}
const seqs = (events: RoomEvent[]) => events.map((e) => (e.kind === 'message' ? e.message.seq : e.kind));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const backends = useBackends();

describe.each(backends)('roomEvents(after) over the $name store: a replay paced by its reader', (backend) => {
  it('reads history a page at a time, only as its reader takes it, and meets the live stream with no gap or duplicate', async () => {
    const [adapters] = await backend.cluster(1, { historyLimit: 10_000 });
    const { chat, append, room, pagesRead } = startChat({}, adapters);
    const roomId = await room(1_000);
    const stream = await chat.roomEvents.open(alice, { roomId, after: `${roomId}:000000000001` });
    await waitFor(() => pagesRead(roomId) >= 1, 5_000, 'the first page');
    await turns();
    // Nothing read: one page (200) in memory, not the 999 messages the cursor asks for.
    expect(pagesRead(roomId)).toBe(1);

    const first = await take(stream, 200);
    expect(seqs(first)).toEqual(range(2, 201));
    await waitFor(() => pagesRead(roomId) >= 2, 5_000, 'the second page');
    await turns();
    expect(pagesRead(roomId)).toBe(2);

    // Live messages sent in the middle of the replay: held, then delivered after the history before them.
    for (let i = 0; i < 5; i++) await append(roomId, `live ${i}`);
    const rest = await take(stream, 799 + 1 + 5);
    expect(seqs(rest)).toEqual([...range(202, 1_000), 'joined', ...range(1_001, 1_005)]);
    await append(roomId, 'after the seam');
    expect(seqs(await take(stream, 1))).toEqual([1_006]);
    await stream.return?.();
  });
});

describe('roomEvents(after): replays per user', () => {
  it('runs at most MAX_REPLAYS_PER_USER replays of a user at once; the next waits its turn and then replays everything', async () => {
    const { chat, room, pagesRead } = startChat({ maxReplaysPerUser: 2 });
    const rooms = [await room(300), await room(300), await room(300)];
    const streams = await Promise.all(rooms.map((roomId) => chat.roomEvents.open(alice, { roomId, after: `${roomId}:000000000001` })));
    await waitFor(() => pagesRead(rooms[0]!) >= 1 && pagesRead(rooms[1]!) >= 1, 5_000, 'two replays running');
    // Another user's replay does not wait behind alice's.
    const carol = await chat.roomEvents.open(viewer('carol'), { roomId: rooms[2]!, after: `${rooms[2]}:000000000001` });
    expect(seqs(await take(carol, 299))).toEqual(range(2, 300));
    await turns();
    // Carol's three (200, 99, then none: caught up); alice's replay of that room has not read a page.
    expect(pagesRead(rooms[2]!)).toBe(3);

    // Alice's first replay ends (she completes it): her third one starts, from its cursor, complete and in order.
    await streams[0]!.return?.();
    const third = await take(streams[2]!, 299 + 1);
    expect(seqs(third)).toEqual([...range(2, 300), 'joined']);
    expect(seqs(await take(streams[1]!, 299))).toEqual(range(2, 300));
    await Promise.all([streams[1]!.return?.(), streams[2]!.return?.(), carol.return?.()]);
  });
});

describe('roomEvents(after): what a replay holds', () => {
  it('holds live events for a replay that waits, up to the queue bound; past it the stream ends with UNAVAILABLE', async () => {
    const { chat, append, room, pagesRead, store } = startChat();
    const roomEvents = createRoomEventService({
      rooms: chat.rooms,
      store,
      hubs: chat.hubs,
      presence: chat.presence,
      logger: silentLogger,
      queue: { maxQueued: 50 },
      maxReplaysPerUser: 1,
    });
    const [busy, waiting] = [await room(300), await room(10)];
    // Its reader reads nothing: this replay keeps alice's one slot, and the next one waits with its events held.
    const first = await roomEvents.open(alice, { roomId: busy, after: `${busy}:000000000001` });
    const second = await roomEvents.open(alice, { roomId: waiting, after: `${waiting}:000000000001` });
    for (let i = 0; i < 60; i++) await append(waiting, `live ${i}`);
    await expect(within(second.next(), 5_000, 'the second stream to end')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(pagesRead(waiting)).toBe(0);
    await first.return?.();
  });
});
