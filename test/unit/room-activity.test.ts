import { describe, expect, it } from 'vitest';
import { createRoomActivity } from '../../src/observability/room-activity.ts';

describe('room activity counters (the dashboard busiest rooms, per instance)', () => {
  it('counts messages over the rate window, users once however many tabs, and forgets idle empty rooms', () => {
    let now = 1_000_000;
    const activity = createRoomActivity({ idleMs: 60_000, rateWindowMs: 10_000, now: () => now });
    const { observer } = activity;
    for (let n = 0; n < 5; n++) observer.messageAccepted('busy');
    observer.memberJoined('busy', 'alice');
    observer.memberJoined('busy', 'alice');
    observer.memberJoined('busy', 'bob');
    observer.memberJoined('present', 'carol');
    expect(activity.sample().sort((a, b) => a.roomId.localeCompare(b.roomId))).toEqual([
      { roomId: 'busy', online: 2, recentMessages: 5, users: ['alice', 'bob'] },
      { roomId: 'present', online: 1, recentMessages: 0, users: ['carol'] },
    ]);

    now += 11_000; // out of the rate window, still within the idle window
    observer.memberLeft('busy', 'alice');
    observer.memberLeft('busy', 'alice');
    observer.memberLeft('busy', 'bob');
    expect(activity.sample().find((room) => room.roomId === 'busy')).toEqual({ roomId: 'busy', online: 0, recentMessages: 0 });

    now += 50_000; // a minute after the last message, nobody there: forgotten; the room with someone stays
    expect(activity.sample()).toEqual([{ roomId: 'present', online: 1, recentMessages: 0, users: ['carol'] }]);
    expect(activity.size).toBe(1);
    observer.memberLeft('present', 'carol');
    expect(activity.sample()).toEqual([]);
    expect(activity.size).toBe(0);
  });

  it('writes only its busiest rooms when more are active than the record holds', () => {
    const activity = createRoomActivity({ maxRooms: 2 });
    for (const [roomId, count] of [
      ['a', 1],
      ['b', 3],
      ['c', 2],
    ] as const)
      for (let n = 0; n < count; n++) activity.observer.messageAccepted(roomId);
    expect(activity.sample().map((room) => room.roomId)).toEqual(['b', 'c']);
  });
});
