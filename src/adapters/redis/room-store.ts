import type { Redis } from 'ioredis';
import type { Logger } from '../../chat/logger.ts';
import type { RoomStore } from '../../chat/ports/index.ts';
import type { Room } from '../../chat/types.ts';
import { parseJson } from './codec.ts';
import { orUnavailable } from './errors.ts';
import type { Keys } from './keys.ts';
import { loadLuaScript } from './scripts.ts';

function decodeRoom(hash: Record<string, string>): Room | null {
  const { id, name, createdAt, createdBy } = hash;
  if (id === undefined || name === undefined || createdAt === undefined || createdBy === undefined) return null;
  const members = parseJson(hash.members ?? '[]');
  if (!Array.isArray(members) || !members.every((member) => typeof member === 'string')) return null;
  return { id, name, private: hash.private === '1', createdAt, createdBy, members: members as string[] };
}

/**
 * A hash per room; public rooms in one zset and each private room in a zset per member (creator included),
 * both scored by a creation counter, so `listVisibleTo` is one ZUNION in creation order plus the hashes.
 */
export function createRedisRoomStore(client: Redis, keys: Keys, logger: Logger): RoomStore {
  const create = loadLuaScript(client, 'create-room');

  const readRooms = async (ids: readonly string[]): Promise<Room[]> => {
    if (ids.length === 0) return [];
    const pipeline = client.pipeline();
    for (const id of ids) pipeline.hgetall(keys.room(id));
    const replies = (await pipeline.exec()) ?? [];
    const rooms: Room[] = [];
    for (const [error, hash] of replies) {
      if (error) throw error;
      const room = decodeRoom(hash as Record<string, string>);
      if (room) rooms.push(room);
      else logger.error({}, 'skipped an undecodable room hash');
    }
    return rooms;
  };

  return {
    async create(room) {
      const indexOwners = room.private ? [...new Set([room.createdBy, ...room.members])] : [];
      await orUnavailable('createRoom', () =>
        create.run(
          [keys.room(room.id), keys.roomOrder, keys.publicRooms, ...indexOwners.map((userId) => keys.userRooms(userId))],
          [room.id, room.name, room.private ? '1' : '0', room.createdAt, room.createdBy, JSON.stringify(room.members)],
        ),
      );
    },

    async get(id) {
      const hash = await orUnavailable('getRoom', () => client.hgetall(keys.room(id)));
      return Object.keys(hash).length === 0 ? null : decodeRoom(hash);
    },

    listVisibleTo(userId) {
      return orUnavailable('listRooms', async () => {
        // ZUNION answers in score order, which is creation order.
        const ids = await client.zunion(2, keys.publicRooms, keys.userRooms(userId));
        return readRooms(ids);
      });
    },
  };
}
