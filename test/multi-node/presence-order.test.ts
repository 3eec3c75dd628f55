import { describe, expect, it } from 'vitest';
import { ROOM_EVENTS, createRoom, eventsOf, online, user } from '../utils/chat.ts';
import { startInstance } from '../utils/instance.ts';
import { useRedis } from '../utils/redis-server.ts';
import { waitFor } from '../utils/wait.ts';
import { connectAuthed } from '../utils/ws-client.ts';
import { startDelayingProxy } from './delaying-proxy.ts';
import { FAST_ENV, presenceOf, printOutputOnFailure, subscriber } from './helpers.ts';

const redisServer = useRedis();

describe('presence order across instances (contract: never a MemberLeft after the MemberJoined that followed it)', () => {
  it('a user leaving on one instance and joining on another is seen Joined/Left strictly alternating by a third', async () => {
    const redis = redisServer();
    const prefix = redis.newPrefix();
    const env = { ...FAST_ENV, REDIS_PREFIX: prefix };
    // Instance A's link holds each standalone PUBLISH for 300 ms: an announcement sent after its script (on
    // another round trip) reaches Redis long after the next transition made on B. Announcements published from
    // inside the presence scripts are not PUBLISH commands on the wire, so the delay cannot reorder them.
    const slowLink = await startDelayingProxy(redis.port, /\$7\r\npublish\r\n/i, 300);
    const [a, b, c] = await Promise.all([
      startInstance({ env: { ...env, REDIS_URL: slowLink.url } }),
      startInstance({ env: { ...env, REDIS_URL: redis.url } }),
      startInstance({ env: { ...env, REDIS_URL: redis.url } }),
    ]);
    printOutputOnFailure([a, b, c]);
    const [alice, bob] = await Promise.all([user('alice'), user('bob')]);
    const roomId = await createRoom(c.graphqlUrl, alice.token);
    const observer = await subscriber(c.wsUrl, alice.token, roomId);
    const bobAbsent = async () => !(await online(c.graphqlUrl, alice.token, roomId)).some((p) => p.user.id === 'bob');

    const rounds = 4;
    for (let round = 0; round < rounds; round++) {
      for (const node of [a, b]) {
        const tab = await connectAuthed(node.wsUrl, bob.token);
        tab.subscribe('s', ROOM_EVENTS, { roomId });
        await tab.waitForNexts('s', 1, 10_000); // bob's own MemberJoined: the join is stored and live
        await tab.close();
        // The leave is stored (Room.online no longer counts bob); the next join goes through the other instance
        // without waiting for this leave's announcement.
        await waitFor(bobAbsent, 5_000, 'bob gone from Room.online');
      }
    }

    const expected = Array.from({ length: rounds * 2 }, () => ['MemberJoined:bob', 'MemberLeft:bob']).flat();
    await waitFor(() => presenceOf(eventsOf(observer, 's'), 'bob').length >= expected.length, 10_000, `${expected.length} presence events`);
    expect(presenceOf(eventsOf(observer, 's'), 'bob')).toEqual(expected);
    expect(await bobAbsent()).toBe(true);
  });
});
