import { randomBytes } from 'node:crypto';
import { ChatError } from './errors.ts';
import type { RateLimiter, RoomStore } from './ports/index.ts';
import type { Room, Viewer } from './types.ts';

export interface CreateRoomInput {
  name: string;
  private?: boolean | null;
  members?: readonly string[] | null;
}

export interface ListRoomsInput {
  /** Absent or null: `defaultPage`. */
  first?: number | null;
  /** A room id of the previous page: the page continues with the rooms created before it. */
  after?: string | null;
}

export interface RoomServiceOptions {
  store: RoomStore;
  /** createRoom per user (ROOM_RATE). */
  limiter: RateLimiter;
  /** @default 100 */
  maxNameLength?: number;
  /** Ids in a private room's member list once deduplicated, the creator included (contract). @default 1_000 */
  maxMembers?: number;
  /** Characters (code points) in one member id (contract). @default 128 */
  maxMemberIdLength?: number;
  /** Rooms a `rooms` page holds at most; a larger `first` is BAD_USER_INPUT (contract). @default 500 */
  maxPage?: number;
  /** @default 100 */
  defaultPage?: number;
  /** Told of each stored room (userEvents' RoomAvailable); must not throw. */
  onCreated?: (room: Room) => void;
}

export const canRead = (room: Room, userId: string): boolean => !room.private || room.createdBy === userId || room.members.includes(userId);

/** Code points, counted without building an array for the common short id. */
const characters = (text: string): number => (text.length <= 1 ? text.length : [...text].length);

export function createRoomService({
  store,
  limiter,
  maxNameLength = 100,
  maxMembers = 1_000,
  maxMemberIdLength = 128,
  maxPage = 500,
  defaultPage = 100,
  onCreated,
}: RoomServiceOptions) {
  /**
   * The stored member list: deduplicated, creator first. The request itself is bounded by the HTTP body and
   * WebSocket frame limits; what is stored, by `maxMembers` x `maxMemberIdLength`.
   */
  function memberList(viewer: Viewer, requested: readonly string[]): string[] {
    for (const id of requested) {
      // `length` first: past 2 x the limit in UTF-16 units it is past the limit in code points too.
      if (id.length === 0 || id.length > 2 * maxMemberIdLength || characters(id) > maxMemberIdLength) {
        throw new ChatError('BAD_USER_INPUT', `members: each id must be 1..${maxMemberIdLength} characters`);
      }
    }
    const members = [...new Set([viewer.id, ...requested])];
    if (members.length > maxMembers) throw new ChatError('BAD_USER_INPUT', `members: at most ${maxMembers} distinct ids, you included`);
    return members;
  }

  return {
    async create(viewer: Viewer, input: CreateRoomInput): Promise<Room> {
      const name = input.name.trim();
      if (!name || name.length > maxNameLength) {
        throw new ChatError('BAD_USER_INPUT', `name must be 1..${maxNameLength} characters`);
      }
      const isPrivate = input.private ?? false;
      const members = memberList(viewer, input.members ?? []);
      // After validation: a rejected request spends no token.
      if (!(await limiter.take(viewer.id))) throw new ChatError('RATE_LIMITED', 'too many rooms created; slow down');
      const room: Room = {
        id: `r_${randomBytes(9).toString('base64url')}`,
        name,
        private: isPrivate,
        createdAt: new Date().toISOString(),
        createdBy: viewer.id,
        members: isPrivate ? members : [],
      };
      await store.create(room);
      onCreated?.(room);
      return room;
    },

    /** Public rooms and the private rooms the viewer belongs to, newest first, one page. */
    async list(viewer: Viewer, { first, after }: ListRoomsInput = {}): Promise<Room[]> {
      const size = first ?? defaultPage;
      if (!Number.isInteger(size) || size < 0 || size > maxPage) {
        throw new ChatError('BAD_USER_INPUT', `first must be 0..${maxPage}`);
      }
      const page = await store.listVisibleTo(viewer.id, { first: size, after: after ?? null });
      if (!page) throw new ChatError('BAD_USER_INPUT', 'after: not a room of your list');
      return page;
    },

    /** null when there is no such room; FORBIDDEN for a private room the viewer is not in. */
    async find(viewer: Viewer, id: string): Promise<Room | null> {
      const room = await store.get(id);
      if (room && !canRead(room, viewer.id)) throw new ChatError('FORBIDDEN', 'this room is private');
      return room;
    },

    /** The room the viewer may read, post to and subscribe to: NOT_FOUND or FORBIDDEN otherwise. */
    async require(viewer: Viewer, id: string): Promise<Room> {
      const room = await this.find(viewer, id);
      if (!room) throw new ChatError('NOT_FOUND', `room ${id} does not exist`);
      return room;
    },
  };
}

export type RoomService = ReturnType<typeof createRoomService>;
