import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createRoom, send, sendHttp, user } from '../utils/chat.ts';
import { useRedis } from '../utils/redis-server.ts';
import { subscribeSse } from '../utils/sse-client.ts';
import { startTestApp, type TestApp } from '../utils/test-app.ts';
import { waitFor } from '../utils/wait.ts';
import { connectAuthed } from '../utils/ws-client.ts';

const USER_EVENTS = /* GraphQL */ `
  subscription UserEvents {
    userEvents {
      __typename
      ... on RoomAvailable {
        at
        room {
          id
          name
          private
          messages(last: 5) {
            body
          }
        }
      }
      ... on Mentioned {
        at
        message {
          id
          roomId
          author {
            id
          }
          body
          clientMessageId
        }
      }
    }
  }
`;

interface UserEventPayload {
  __typename: 'RoomAvailable' | 'Mentioned';
  at: string;
  room?: { id: string; name: string; private: boolean; messages: Array<{ body: string }> };
  message?: { id: string; roomId: string; author: { id: string }; body: string; clientMessageId: string | null };
}

/** One open userEvents subscription of `userId`, over either transport; `label` names it in failures. */
interface Sub {
  label: string;
  userId: string;
  events(): UserEventPayload[];
}

async function overWs(app: TestApp, userId: string): Promise<Sub> {
  const client = await connectAuthed(app.wsUrl, (await user(userId)).token);
  client.subscribe('u', USER_EVENTS);
  return {
    label: `${userId} ws :${app.port}`,
    userId,
    events: () => client.nexts('u').map((payload: { data: { userEvents: UserEventPayload } }) => payload.data.userEvents),
  };
}

async function overSse(app: TestApp, userId: string): Promise<Sub> {
  const stream = await subscribeSse(app.graphqlUrl, USER_EVENTS, {}, { token: (await user(userId)).token });
  expect(stream.status).toBe(200);
  return {
    label: `${userId} sse :${app.port}`,
    userId,
    events: () => stream.nexts().map((payload: { data: { userEvents: UserEventPayload } }) => payload.data.userEvents),
  };
}

const roomOf = (event: UserEventPayload) => event.room?.id ?? event.message?.roomId;

/**
 * Probes through mentions in a room of their own, sent by a user nobody else is: a userEvents subscription gives no
 * sign that it is live (it replays nothing), so `live` mentions every subscriber until each got one, and `barrier`
 * marks a point after which nothing earlier can still arrive (each user's events come in publish order). `seen`
 * is what a subscription got before the last barrier, probes left out.
 */
async function probes(app: TestApp, subs: Sub[]) {
  const prober = await user('prober');
  const roomId = await createRoom(app.graphqlUrl, prober.token, { name: 'probes' });
  const everyone = [...new Set(subs.map((sub) => sub.userId))].map((id) => `@${id}`).join(' ');
  let count = 0;
  const got = (sub: Sub, body: string) => sub.events().some((event) => event.message?.roomId === roomId && event.message.body === body);
  const probe = async (timeoutMs: number) => {
    const body = `${everyone} probe-${++count}`;
    await send(app.graphqlUrl, prober.token, roomId, body);
    await waitFor(() => subs.every((sub) => got(sub, body)), timeoutMs, `probe ${count}`).catch(() => undefined);
    return body;
  };
  return {
    async live() {
      const probed = new Set<string>();
      for (let attempt = 1; !subs.every((sub) => sub.events().some((event) => event.message?.roomId === roomId)); attempt++) {
        if (attempt > 40)
          throw new Error(
            `never live: ${subs
              .filter((sub) => !sub.events().length)
              .map((sub) => sub.label)
              .join(', ')}`,
          );
        probed.add(await probe(250));
      }
    },
    async barrier() {
      const body = await probe(10_000);
      for (const sub of subs) if (!got(sub, body)) throw new Error(`barrier not reached by ${sub.label}`);
    },
    seen: (sub: Sub) => sub.events().filter((event) => roomOf(event) !== roomId),
  };
}

const bodies = (events: UserEventPayload[]) =>
  events.map((event) => (event.__typename === 'Mentioned' ? event.message!.body : `room ${event.room!.name}`));

describe('userEvents: targeted delivery across two instances sharing Redis, over WebSocket and SSE', () => {
  const redis = useRedis();
  const twoInstances = async () => {
    const env = { REDIS_URL: redis().url, REDIS_PREFIX: redis().newPrefix(), MESSAGE_RATE: '1000', MESSAGE_BURST: '1000' };
    return Promise.all([startTestApp(env), startTestApp(env)]);
  };

  it('RoomAvailable: a public room reaches every other user once per subscription, a private one only its members, never the creator', async () => {
    const [x, y] = await twoInstances();
    const subs = {
      aliceWs: await overWs(x, 'alice'),
      aliceSse: await overSse(y, 'alice'),
      bobWs: await overWs(y, 'bob'),
      bobSse: await overSse(x, 'bob'),
      carolWs: await overWs(x, 'carol'),
    };
    const probe = await probes(x, Object.values(subs));
    await probe.live();
    const alice = await user('alice');

    const publicId = await createRoom(x.graphqlUrl, alice.token, { name: 'lobby' });
    const privateId = await createRoom(y.graphqlUrl, alice.token, { name: 'secret', private: true, members: ['bob'] });
    await probe.barrier();

    expect(bodies(probe.seen(subs.bobWs))).toEqual(['room lobby', 'room secret']);
    expect(bodies(probe.seen(subs.bobSse))).toEqual(['room lobby', 'room secret']);
    expect(bodies(probe.seen(subs.carolWs))).toEqual(['room lobby']);
    expect(probe.seen(subs.aliceWs)).toEqual([]);
    expect(probe.seen(subs.aliceSse)).toEqual([]);
    const [lobby, secret] = probe.seen(subs.bobSse);
    expect(lobby).toMatchObject({ __typename: 'RoomAvailable', room: { id: publicId, name: 'lobby', private: false, messages: [] } });
    expect(secret).toMatchObject({ __typename: 'RoomAvailable', room: { id: privateId, name: 'secret', private: true, messages: [] } });
    expect(Date.parse(secret!.at)).not.toBeNaN();
  });

  it('Mentioned: the contract grammar, once per message, at most 20 users, no retry, not the author, only readers of the room', async () => {
    const [x, y] = await twoInstances();
    const [alice, bob] = [await user('alice'), await user('bob')];
    const open = await createRoom(x.graphqlUrl, alice.token, { name: 'open' });
    const closed = await createRoom(x.graphqlUrl, alice.token, { name: 'closed', private: true, members: ['bob'] });
    const subs = {
      bobWs: await overWs(x, 'bob'),
      bobSse: await overSse(y, 'bob'),
      bobB: await overWs(y, 'bob-b'),
      carol: await overSse(x, 'carol'),
      alice: await overWs(y, 'alice'),
    };
    const probe = await probes(y, Object.values(subs));
    await probe.live();

    const twenty = Array.from({ length: 20 }, (_, i) => `@m${i}`).join(' ');
    const retried = await send(x.graphqlUrl, alice.token, open, '@bob retried', 'c-1');
    const sent = [
      await send(x.graphqlUrl, alice.token, open, '@bob-b is not @bob- nor bob'),
      await send(x.graphqlUrl, alice.token, open, 'x@bob .@bob mail@carol'),
      await send(y.graphqlUrl, alice.token, open, '@bob @bob, @bob!'),
      await send(x.graphqlUrl, alice.token, open, `${twenty} @bob is the 21st`),
      await send(x.graphqlUrl, alice.token, open, `@bob ${twenty}`),
      await send(x.graphqlUrl, alice.token, open, '@alice talks to herself'),
      await send(y.graphqlUrl, bob.token, open, '@bob talks to himself, @alice'),
      await send(x.graphqlUrl, alice.token, closed, '@carol cannot read this, @bob can'),
      await send(x.graphqlUrl, alice.token, open, 'hello @carol'),
    ];
    // The retry returns the stored message and announces nothing.
    const retry = await sendHttp(y.graphqlUrl, alice.token, open, '@bob retried', 'c-1');
    expect(retry.data?.sendMessage.id).toBe(retried.id);
    await probe.barrier();

    const bobSees = ['@bob retried', '@bob @bob, @bob!', `@bob ${twenty}`, '@carol cannot read this, @bob can'];
    expect(bodies(probe.seen(subs.bobWs))).toEqual(bobSees);
    expect(bodies(probe.seen(subs.bobSse))).toEqual(bobSees);
    expect(bodies(probe.seen(subs.bobB))).toEqual(['@bob-b is not @bob- nor bob']);
    expect(bodies(probe.seen(subs.carol))).toEqual(['hello @carol']);
    expect(bodies(probe.seen(subs.alice))).toEqual(['@bob talks to himself, @alice']);
    const last = sent[7]!;
    expect(probe.seen(subs.bobSse)[3]).toEqual({
      __typename: 'Mentioned',
      at: last.sentAt,
      message: { id: last.id, roomId: closed, author: { id: 'alice' }, body: last.body, clientMessageId: null },
    });
  });

  it("a user's channel is subscribed only while that user has userEvents open on the instance, and let go when the last closes", async () => {
    const [x, y] = await twoInstances();
    const inspector = new Redis(redis().url);
    onTestFinished(() => void inspector.quit());
    // The channel's name is internal; Redis reports who listens on the user's channel whatever its prefix.
    const subscribersOf = async (userId: string): Promise<number> => {
      const [channel] = (await inspector.pubsub('CHANNELS', `*user-events:${userId}`)) as string[];
      if (!channel) return 0;
      const reply = (await inspector.pubsub('NUMSUB', channel)) as [string, number];
      return Number(reply[1]);
    };
    const alice = await user('alice');
    const roomId = await createRoom(y.graphqlUrl, alice.token, { name: 'pings' });
    expect(await subscribersOf('dave')).toBe(0);
    const first = await connectAuthed(x.wsUrl, (await user('dave')).token);
    const second = await connectAuthed(x.wsUrl, (await user('dave')).token);
    first.subscribe('u', USER_EVENTS);
    second.subscribe('u', USER_EVENTS);
    await waitFor(async () => (await subscribersOf('dave')) === 1, 5_000, 'dave subscribed');
    // Both open: one instance, one listener. The first closing leaves the second live on that channel.
    await send(y.graphqlUrl, alice.token, roomId, '@dave one');
    await first.waitForNexts('u', 1);
    await second.waitForNexts('u', 1);
    first.complete('u');
    await send(y.graphqlUrl, alice.token, roomId, '@dave two');
    await second.waitForNexts('u', 2);
    expect(await subscribersOf('dave')).toBe(1);
    await second.close();
    await waitFor(async () => (await subscribersOf('dave')) === 0, 5_000, 'dave unsubscribed');
  });
});

describe('userEvents without Redis (one instance, in-process bus)', () => {
  it('delivers RoomAvailable and Mentioned to the other user only', async () => {
    const app = await startTestApp();
    const subs = { alice: await overWs(app, 'alice'), bob: await overSse(app, 'bob') };
    const probe = await probes(app, Object.values(subs));
    await probe.live();
    const alice = await user('alice');
    const roomId = await createRoom(app.graphqlUrl, alice.token, { name: 'news' });
    await send(app.graphqlUrl, alice.token, roomId, 'hi @bob and @alice');
    await probe.barrier();
    expect(bodies(probe.seen(subs.bob))).toEqual(['room news', 'hi @bob and @alice']);
    expect(probe.seen(subs.alice)).toEqual([]);
  });

  it('needs a user: without a token the subscription ends with UNAUTHENTICATED', async () => {
    const app = await startTestApp();
    const stream = await subscribeSse(app.graphqlUrl, USER_EVENTS);
    const [result] = await stream.waitForNexts(1);
    expect(result.errors.map((error: { extensions: { code: string } }) => error.extensions.code)).toEqual(['UNAUTHENTICATED']);
  });
});
