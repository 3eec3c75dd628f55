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

  it('lists public rooms and the private rooms the user belongs to, newest first', async () => {
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
    const names = async (userId: string) => (await node!.rooms.listVisibleTo(userId, { first: 100 }))!.map((r) => r.name);
    expect(await names(userA)).toEqual(['A alone', 'public 2', 'A and B', 'public 1']);
    expect(await names(userB)).toEqual(['B alone', 'public 2', 'A and B', 'public 1']);
    expect(await names('stranger')).toEqual(['public 2', 'public 1']);
  });

  it('pages newest first: `first` rooms created before the `after` room, with no gap and no duplicate', async () => {
    const [a, b] = await backend.cluster(2);
    const me = `me-${uniqueRoomId()}`;
    const other = `o-${uniqueRoomId()}`;
    const made: Room[] = [];
    for (let n = 0; n < 23; n++) {
      // Public rooms, private rooms of mine (as creator or member), and private rooms of others, interleaved.
      const kind = n % 3;
      const r =
        kind === 0
          ? room({ name: `p${n}` })
          : kind === 1
            ? room({ name: `m${n}`, private: true, createdBy: n % 2 ? me : other, members: [me, other] })
            : room({ name: `x${n}`, private: true, createdBy: other, members: [other] });
      made.push(r);
      await (n % 2 ? a : b)!.rooms.create(r);
    }
    const visible = made
      .filter((r) => !r.name.startsWith('x'))
      .reverse()
      .map((r) => r.name);
    const pages: string[][] = [];
    let after: string | null = null;
    for (;;) {
      const page: Room[] | null = await b!.rooms.listVisibleTo(me, { first: 4, after });
      expect(page).not.toBeNull();
      if (page!.length === 0) break;
      expect(page!.length).toBeLessThanOrEqual(4);
      pages.push(page!.map((r) => r.name));
      after = page!.at(-1)!.id;
    }
    expect(pages.flat()).toEqual(visible);
    expect(pages.slice(0, -1).every((page) => page.length === 4)).toBe(true);
    expect(await a!.rooms.listVisibleTo(me, { first: 0 })).toEqual([]);
    expect((await a!.rooms.listVisibleTo(me, { first: 2, after: made[1]!.id }))!.map((r) => r.name)).toEqual(['p0']);
  });

  it('refuses a cursor the user cannot see: unknown, or a private room without them (null, nothing revealed)', async () => {
    const [node] = await backend.cluster(1);
    const secret = room({ name: 'secret', private: true, createdBy: 'owner', members: ['owner'] });
    await node!.rooms.create(room({ name: 'public' }));
    await node!.rooms.create(secret);
    expect(await node!.rooms.listVisibleTo('stranger', { first: 10, after: secret.id })).toBeNull();
    expect(await node!.rooms.listVisibleTo('stranger', { first: 10, after: 'r_missing' })).toBeNull();
    expect((await node!.rooms.listVisibleTo('owner', { first: 10, after: secret.id }))!.map((r) => r.name)).toEqual(['public']);
  });
});

describe('RoomStore over Redis', () => {
  it('answers UNAVAILABLE while Redis is down', async () => {
    const server = await privateRedisServer();
    const [node] = await redisCluster(server, 1, { commandTimeoutMs: 500 });
    await server.stop();
    await expect(within(node!.rooms.create(room({})), 3_000)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(within(node!.rooms.get('x'), 3_000)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(within(node!.rooms.listVisibleTo('x', { first: 10 }), 3_000)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
