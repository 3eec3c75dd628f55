import { describe, expect, it } from 'vitest';
import type { Room } from '../../src/chat/types.ts';
import { within } from '../utils/wait.ts';
import { privateRedisServer, redisCluster, useBackends } from './backends.ts';
import { uniqueRoomId } from './recorder.ts';

const backends = useBackends();

const room = (extra: Partial<Room>): Room => ({
  id: uniqueRoomId(),
  name: 'Room',
  private: false,
  createdAt: '2026-01-01T00:00:00.000Z',
  createdBy: 'alice',
  members: [],
  ...extra,
});

describe.each(backends)('RoomStore contract: $name', (backend) => {
  it('stores and reads a room back; an unknown id is null', async () => {
    const [a, b] = await backend.cluster(2);
    const created = room({ name: 'Ünïcode "room" 🎉', private: true, members: ['alice', 'bob'] });
    await a!.rooms.create(created);
    expect(await b!.rooms.get(created.id)).toEqual(created);
    expect(await b!.rooms.get('r_missing')).toBeNull();
  });

  it('lists public rooms and the private rooms the user belongs to, oldest first', async () => {
    const [node] = await backend.cluster(1);
    const userA = `a-${uniqueRoomId()}`;
    const userB = `b-${uniqueRoomId()}`;
    const made = [
      room({ name: 'public 1' }),
      room({ name: 'A and B', private: true, createdBy: userA, members: [userA, userB] }),
      room({ name: 'public 2' }),
      room({ name: 'A alone', private: true, createdBy: userA, members: [userA] }),
      room({ name: 'B alone', private: true, createdBy: userB, members: [userB] }),
    ];
    for (const r of made) await node!.rooms.create(r);
    const names = async (userId: string) => (await node!.rooms.listVisibleTo(userId)).map((r) => r.name);
    expect(await names(userA)).toEqual(['public 1', 'A and B', 'public 2', 'A alone']);
    expect(await names(userB)).toEqual(['public 1', 'A and B', 'public 2', 'B alone']);
    expect(await names('stranger')).toEqual(['public 1', 'public 2']);
  });
});

describe('RoomStore over Redis', () => {
  it('answers UNAVAILABLE while Redis is down', async () => {
    const server = await privateRedisServer();
    const [node] = await redisCluster(server, 1, { commandTimeoutMs: 500 });
    await server.stop();
    await expect(within(node!.rooms.create(room({})), 3_000)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(within(node!.rooms.get('x'), 3_000)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(within(node!.rooms.listVisibleTo('x'), 3_000)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
