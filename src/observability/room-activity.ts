import type { RoomActivityObserver } from '../chat/counters.ts';

/** One room's activity on one instance, as written with the instance's record and summed by the dashboard. */
export interface RoomFigures {
  roomId: string;
  /** Users with a roomEvents subscription to the room open on this instance. */
  online: number;
  /** Messages this instance accepted for the room within the rate window (a count: sums exactly across instances). */
  recentMessages: number;
  /**
   * Who those users are, when they are few (at most `USER_IDS_PER_ROOM`): a user connected to the room through two
   * instances then counts once in the merged `online`. Larger rooms send only the count, which keeps the record
   * small; their `online` is the sum over instances.
   */
  users?: string[];
}

/** Rooms with at most this many users present here name them in the record (see `RoomFigures.users`). */
export const USER_IDS_PER_ROOM = 10;

export interface RoomActivityOptions {
  /** A room with nobody present here and no message accepted here for this long is forgotten. @default 60_000 */
  idleMs?: number;
  /** `messagesPerSecond` is the count over this window divided by its seconds. @default 10_000 */
  rateWindowMs?: number;
  /** Rooms written per sample: the busiest here (by messages, then online) when more are active. @default 200 */
  maxRooms?: number;
  /** @default Date.now */
  now?: () => number;
}

interface RoomCounter {
  /** Connections per user present here: a user counts once however many tabs they have open. */
  users: Map<string, number>;
  /** Per-second message counts over the rate window, indexed by second modulo the window's length. */
  buckets: number[];
  bucketSeconds: number[];
  lastMessageAt: number;
}

/**
 * Counts, per room, this instance's accepted messages and its local presence. Memory stays bounded by activity:
 * a room gets a counter when something happens in it and loses it once it has been quiet and empty here for
 * `idleMs` (checked at each sample), so a million rooms created once cost nothing after a minute.
 */
export function createRoomActivity({ idleMs = 60_000, rateWindowMs = 10_000, maxRooms = 200, now = Date.now }: RoomActivityOptions = {}) {
  const windowSeconds = Math.max(1, Math.round(rateWindowMs / 1000));
  const rooms = new Map<string, RoomCounter>();
  const counter = (roomId: string): RoomCounter => {
    let room = rooms.get(roomId);
    if (!room) {
      room = {
        users: new Map(),
        buckets: new Array<number>(windowSeconds).fill(0),
        bucketSeconds: new Array<number>(windowSeconds).fill(-1),
        lastMessageAt: -Infinity,
      };
      rooms.set(roomId, room);
    }
    return room;
  };
  const recent = (room: RoomCounter, second: number) => {
    let total = 0;
    for (let index = 0; index < windowSeconds; index++) {
      if (second - room.bucketSeconds[index]! < windowSeconds) total += room.buckets[index]!;
    }
    return total;
  };

  const observer: RoomActivityObserver = {
    messageAccepted(roomId) {
      const room = counter(roomId);
      const at = now();
      const second = Math.floor(at / 1000);
      const index = second % windowSeconds;
      if (room.bucketSeconds[index] !== second) {
        room.bucketSeconds[index] = second;
        room.buckets[index] = 0;
      }
      room.buckets[index]! += 1;
      room.lastMessageAt = at;
    },
    memberJoined(roomId, userId) {
      const users = counter(roomId).users;
      users.set(userId, (users.get(userId) ?? 0) + 1);
    },
    memberLeft(roomId, userId) {
      const users = rooms.get(roomId)?.users;
      const left = (users?.get(userId) ?? 0) - 1;
      if (left > 0) users!.set(userId, left);
      else users?.delete(userId);
    },
  };

  return {
    observer,
    /** Rooms tracked now (for tests and the bound's own check). */
    get size() {
      return rooms.size;
    },
    /** The active rooms' figures (someone present here, or a message here within `idleMs`); forgets the others. */
    sample(): RoomFigures[] {
      const at = now();
      const second = Math.floor(at / 1000);
      const active: RoomFigures[] = [];
      for (const [roomId, room] of rooms) {
        if (room.users.size === 0 && at - room.lastMessageAt > idleMs) {
          rooms.delete(roomId);
          continue;
        }
        const figures: RoomFigures = { roomId, online: room.users.size, recentMessages: recent(room, second) };
        if (room.users.size > 0 && room.users.size <= USER_IDS_PER_ROOM) figures.users = [...room.users.keys()];
        active.push(figures);
      }
      if (active.length <= maxRooms) return active;
      return active.sort((a, b) => b.recentMessages - a.recentMessages || b.online - a.online).slice(0, maxRooms);
    },
    windowSeconds,
  };
}

export type RoomActivity = ReturnType<typeof createRoomActivity>;
