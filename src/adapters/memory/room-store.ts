import type { RoomStore } from '../../chat/ports/index.ts';
import type { Room } from '../../chat/types.ts';
import { canRead } from '../../chat/rooms.ts';

export function createMemoryRoomStore(): RoomStore {
  const rooms = new Map<string, Room>();
  return {
    async create(room) {
      rooms.set(room.id, room);
    },
    async get(id) {
      return rooms.get(id) ?? null;
    },
    async listVisibleTo(userId) {
      return [...rooms.values()].filter((room) => canRead(room, userId));
    },
  };
}
