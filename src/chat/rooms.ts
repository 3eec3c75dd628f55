import { randomBytes } from 'node:crypto';
import { ChatError } from './errors.ts';
import type { RoomStore } from './ports/index.ts';
import type { Room, Viewer } from './types.ts';

export interface CreateRoomInput {
  name: string;
  private?: boolean | null;
  members?: readonly string[] | null;
}

export interface RoomServiceOptions {
  store: RoomStore;
  /** @default 100 */
  maxNameLength?: number;
  /** @default 1_000 */
  maxMembers?: number;
}

export const canRead = (room: Room, userId: string): boolean =>
  !room.private || room.createdBy === userId || room.members.includes(userId);

export function createRoomService({ store, maxNameLength = 100, maxMembers = 1_000 }: RoomServiceOptions) {
  return {
    async create(viewer: Viewer, input: CreateRoomInput): Promise<Room> {
      const name = input.name.trim();
      if (!name || name.length > maxNameLength) {
        throw new ChatError('BAD_USER_INPUT', `name must be 1..${maxNameLength} characters`);
      }
      const members = [...new Set([viewer.id, ...(input.members ?? [])])];
      if (members.length > maxMembers) throw new ChatError('BAD_USER_INPUT', `at most ${maxMembers} members`);
      const isPrivate = input.private ?? false;
      const room: Room = {
        id: `r_${randomBytes(9).toString('base64url')}`,
        name,
        private: isPrivate,
        createdAt: new Date().toISOString(),
        createdBy: viewer.id,
        members: isPrivate ? members : [],
      };
      await store.create(room);
      return room;
    },

    list(viewer: Viewer): Promise<Room[]> {
      return store.listVisibleTo(viewer.id);
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
