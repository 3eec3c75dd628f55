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
 * both scored by a creation counter, so a page of `listVisibleTo` is one ZREVRANGEBYSCORE per index (from the
 * `after` room's score), a merge, and the page's hashes.
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

    listVisibleTo(userId, { first, after }) {
      return orUnavailable('listRooms', async () => {
        const indexes = [keys.publicRooms, keys.userRooms(userId)] as const;
        let max = '+inf';
        if (after) {
          // A room the user can see is in one of their two indexes, with its creation order as score.
          const [publicScore, ownScore] = await Promise.all(indexes.map((index) => client.zscore(index, after)));
          const score = publicScore ?? ownScore ?? null;
          if (score === null) return null;
          max = `(${score}`;
        }
        if (first <= 0) return [];
        // Newest first from each index (O(log n + first) each), merged by creation order.
        const replies = await Promise.all(
          indexes.map((index) => client.zrevrangebyscore(index, max, '-inf', 'WITHSCORES', 'LIMIT', 0, first)),
        );
        const scored = replies.flatMap((reply) => {
          const pairs: Array<{ id: string; order: number }> = [];
          for (let n = 0; n + 1 < reply.length; n += 2) pairs.push({ id: reply[n] as string, order: Number(reply[n + 1]) });
          return pairs;
        });
        scored.sort((a, b) => b.order - a.order);
        return readRooms(scored.slice(0, first).map((entry) => entry.id));
      });
    },
  };
}
