import type { RoomEventListener } from '../../src/chat/ports/index.ts';
import type { RoomEvent, User } from '../../src/chat/types.ts';

/** A bus listener that keeps what it was told. */
export function createRecorder(): RoomEventListener & { events: RoomEvent[]; gaps: number; seqs(): number[] } {
  const recorder = {
    events: [] as RoomEvent[],
    gaps: 0,
    onEvent(event: RoomEvent) {
      recorder.events.push(event);
    },
    onPossibleGap() {
      recorder.gaps++;
    },
    seqs: () => recorder.events.flatMap((event) => (event.kind === 'message' ? [event.message.seq] : [])),
  };
  return recorder;
}

export const alice: User = { id: 'alice', name: 'Alice' };
export const bob: User = { id: 'bob', name: 'Bob' };

let counter = 0;
export const uniqueRoomId = () => `r_test${++counter}_${Math.random().toString(36).slice(2, 8)}`;

export const typingEvent = (roomId: string, n: number): RoomEvent => ({
  kind: 'typing',
  roomId,
  user: { id: `u${n}`, name: `User ${n}` },
  typing: n % 2 === 0,
  at: new Date(1_700_000_000_000 + n).toISOString(),
});
