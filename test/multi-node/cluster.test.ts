import { describe, expect, it } from 'vitest';
import { ROOM_EVENTS, SET_TYPING, createRoom, eventsOf, history, messageIds, online, send, user } from '../utils/chat.ts';
import { gql } from '../utils/http-client.ts';
import { signTestToken } from '../utils/tokens.ts';
import { waitFor } from '../utils/wait.ts';
import { connectAuthed, type RawClient } from '../utils/ws-client.ts';
import { checkLedger, presenceOf, printOutputOnFailure, startCluster, startSenders, subscriber, useCluster } from './helpers.ts';
import { metric } from '../utils/chat.ts';

// Three instances for the file; each test works in rooms of its own.
const cluster = useCluster(3);
const nodesOf = () => {
  const { nodes } = cluster();
  printOutputOnFailure(nodes);
  return { nodes, a: nodes[0]!, b: nodes[1]!, c: nodes[2]! };
};

/** Proves nothing is pending: a marker sent now reaching `client` means every earlier room event reached it too. */
async function flush(graphqlUrl: string, token: string, roomId: string, client: RawClient, id = 's') {
  const marker = await send(graphqlUrl, token, roomId, `marker-${Math.random()}`);
  await waitFor(() => messageIds(eventsOf(client, id)).includes(marker.id), 10_000, `marker ${marker.id}`);
}

describe('a cluster on one Redis behaves as one server', () => {
  it('delivers messages sent concurrently through three instances to subscribers on every instance, in one order, once', async () => {
    const { nodes } = nodesOf();
    const users = await Promise.all(['alice', 'bob', 'carol'].map(user));
    const roomId = await createRoom(nodes[0]!.graphqlUrl, users[0]!.token);
    const subscribers = await Promise.all(
      nodes.map(async (node, index) => ({
        client: await subscriber(node.wsUrl, users[index]!.token, roomId),
        id: 's',
        name: `subscriber on instance ${index}`,
      })),
    );

    const senders = startSenders(
      nodes.map((node, index) => ({ graphqlUrl: node.graphqlUrl, token: users[index]!.token })),
      roomId,
      'concurrent',
    );
    await senders.moreAcked(60);
    await senders.stop();

    expect(senders.ledger.unavailable).toEqual([]);
    await checkLedger({
      ...senders,
      subscribers,
      graphqlUrl: nodes[2]!.graphqlUrl,
      token: users[0]!.token,
      roomId,
      fault: 'no fault (3 instances)',
    });
    // Every instance answered for its senders, so the one order above interleaves messages from all three.
    expect(new Set(senders.ledger.acked.map((m) => m.author.id))).toEqual(new Set(['alice', 'bob', 'carol']));
  });

  it('counts presence across instances: one MemberJoined/MemberLeft per transition for the cluster, same Room.online everywhere', async () => {
    const { nodes, a, b } = nodesOf();
    const [alice, carol, bob] = await Promise.all([user('alice'), user('carol'), user('bob')]);
    const roomId = await createRoom(a.graphqlUrl, alice.token);
    const observerA = await subscriber(a.wsUrl, alice.token, roomId);
    const observerB = await subscriber(b.wsUrl, carol.token, roomId);
    const bobOnline = async (graphqlUrl: string) =>
      (await online(graphqlUrl, alice.token, roomId)).find((p) => p.user.id === 'bob')?.connections ?? 0;

    const tabA = await subscriber(a.wsUrl, bob.token, roomId);
    // Bob's second tab, on the other instance: no MemberJoined to wait for, so wait for the count.
    const tabB = await connectAuthed(b.wsUrl, bob.token);
    tabB.subscribe('s', ROOM_EVENTS, { roomId });
    for (const node of nodes) await waitFor(async () => (await bobOnline(node.graphqlUrl)) === 2, 5_000, 'bob counted twice');
    expect((await online(b.graphqlUrl, alice.token, roomId)).map((p) => [p.user.id, p.connections]).sort()).toEqual([
      ['alice', 1],
      ['bob', 2],
      ['carol', 1],
    ]);

    await tabA.close();
    for (const node of nodes) await waitFor(async () => (await bobOnline(node.graphqlUrl)) === 1, 5_000, 'bob down to one tab');
    await tabB.close();
    for (const node of nodes) await waitFor(async () => (await bobOnline(node.graphqlUrl)) === 0, 5_000, 'bob gone');

    await flush(a.graphqlUrl, alice.token, roomId, observerA);
    await flush(b.graphqlUrl, alice.token, roomId, observerB);
    for (const observer of [observerA, observerB]) {
      expect(presenceOf(eventsOf(observer, 's'), 'bob')).toEqual(['MemberJoined:bob', 'MemberLeft:bob']);
    }
  });

  it('makes a retry with the same clientMessageId through another instance return the stored message, stored and delivered once', async () => {
    const { a, b } = nodesOf();
    const alice = await user('alice');
    const roomId = await createRoom(a.graphqlUrl, alice.token);
    const watcher = await subscriber(b.wsUrl, alice.token, roomId);

    const first = await send(a.graphqlUrl, alice.token, roomId, 'hello once', 'retry-1');
    const retry = await send(b.graphqlUrl, alice.token, roomId, 'hello once', 'retry-1');
    expect(retry).toEqual(first);

    await flush(b.graphqlUrl, alice.token, roomId, watcher);
    expect((await history(b.graphqlUrl, alice.token, roomId)).filter((m) => m.clientMessageId === 'retry-1').map((m) => m.id)).toEqual([
      first.id,
    ]);
    expect(messageIds(eventsOf(watcher, 's')).filter((id) => id === first.id)).toHaveLength(1);
  });

  it('replays with `after` through another instance, then goes live with no gap and no duplicate', async () => {
    const { a, b } = nodesOf();
    const alice = await user('alice');
    const roomId = await createRoom(a.graphqlUrl, alice.token);
    const sent = [];
    for (let i = 0; i < 5; i++) sent.push(await send(a.graphqlUrl, alice.token, roomId, `before ${i}`));

    const resumed = await connectAuthed(b.wsUrl, alice.token);
    resumed.subscribe('r', ROOM_EVENTS, { roomId, after: sent[1]!.id });
    await waitFor(() => messageIds(eventsOf(resumed, 'r')).length >= 3, 10_000, 'replayed messages');
    const live = await send(a.graphqlUrl, alice.token, roomId, 'live');
    await waitFor(() => messageIds(eventsOf(resumed, 'r')).includes(live.id), 10_000, 'live message');
    expect(messageIds(eventsOf(resumed, 'r'))).toEqual([...sent.slice(2).map((m) => m.id), live.id]);
  });

  it('carries typing across instances, including its expiry', async () => {
    const { a, b } = nodesOf();
    const [alice, bob] = await Promise.all([user('alice'), user('bob')]);
    const roomId = await createRoom(a.graphqlUrl, alice.token);
    const watcher = await subscriber(b.wsUrl, alice.token, roomId);

    const response = await gql(a.graphqlUrl, SET_TYPING, { roomId, typing: true }, bob.token);
    expect(response).toEqual({ data: { setTyping: true } });
    const typing = () =>
      eventsOf(watcher, 's')
        .filter((e) => e.__typename === 'TypingChanged')
        .map((e) => `${e.user!.id}:${e.typing}`);
    // TYPING_TTL_MS is 500: the false comes from instance A's expiry timer, through Redis.
    await waitFor(() => typing().length >= 2, 10_000, 'typing true then its expiry');
    expect(typing()).toEqual(['bob:true', 'bob:false']);
  });

  it('isolates two clusters on one Redis by REDIS_PREFIX: rooms, history, sequence numbers and channels', async () => {
    const one = cluster();
    const server = one.redis;
    const two = await startCluster(server, 1);
    const [x, y] = [one.nodes[0]!, two.nodes[0]!];
    const alice = await user('alice');
    const roomId = await createRoom(x.graphqlUrl, alice.token);
    expect((await gql(y.graphqlUrl, `query($id: ID!) { room(id: $id) { id } }`, { id: roomId }, alice.token)).data).toEqual({ room: null });

    // Give cluster two a room with the same id (copied hash and index), so both clusters use one room id.
    const hash = (await server.command('HGETALL', `${one.prefix}room:${roomId}`)) as string[];
    await server.command('HSET', `${two.prefix}room:${roomId}`, ...hash);
    await server.command('ZADD', `${two.prefix}rooms:public`, 1, roomId);
    const inOne = await subscriber(x.wsUrl, alice.token, roomId);
    const inTwo = await subscriber(y.wsUrl, alice.token, roomId);

    const first = await send(x.graphqlUrl, alice.token, roomId, 'cluster one');
    const other = await send(y.graphqlUrl, alice.token, roomId, 'cluster two');
    expect(other.id).toBe(first.id); // each cluster numbers the room from 1 on its own
    await flush(x.graphqlUrl, alice.token, roomId, inOne);
    await flush(y.graphqlUrl, alice.token, roomId, inTwo);
    const bodies = (client: RawClient) =>
      eventsOf(client, 's')
        .filter((e) => e.message)
        .map((e) => e.message!.body);
    expect(bodies(inOne).filter((b) => !b.startsWith('marker'))).toEqual(['cluster one']);
    expect(bodies(inTwo).filter((b) => !b.startsWith('marker'))).toEqual(['cluster two']);
    expect((await history(y.graphqlUrl, alice.token, roomId)).map((m) => m.body).filter((b) => !b.startsWith('marker'))).toEqual([
      'cluster two',
    ]);
  });

  it('serves serverStats cluster-wide: every live instance counted, connections and subscriptions summed', async () => {
    const { nodes, a, b, c } = nodesOf();
    const alice = await user('alice');
    const admin = await signTestToken({ sub: 'admin', name: 'Admin', roles: ['admin'] });
    const roomId = await createRoom(a.graphqlUrl, alice.token);
    // Sockets on B and C (one with a roomEvents subscription), the dashboard's own socket on A.
    await subscriber(b.wsUrl, alice.token, roomId);
    await connectAuthed(c.wsUrl, alice.token);
    const dashboard = await connectAuthed(a.wsUrl, admin);
    dashboard.subscribe(
      'stats',
      `subscription { serverStats { instances connections subscriptions messagesPerSecond deliveriesPerSecond } }`,
    );

    // Each instance's own gauges, summed, must be what one dashboard shows (reports are up to a second old,
    // and earlier tests' sockets may still be closing, so wait for the two to agree).
    const sumOf = async (name: string) => (await Promise.all(nodes.map((node) => metric(node.url, name)))).reduce((x, y) => x + y, 0);
    const latest = () => dashboard.nexts('stats').at(-1)?.data?.serverStats;
    let expected = { instances: 3, connections: -1, subscriptions: -1 };
    await waitFor(
      async () => {
        expected = { instances: 3, connections: await sumOf('chat_ws_connections'), subscriptions: await sumOf('chat_subscriptions') };
        const snapshot = latest();
        return (
          snapshot?.instances === 3 && snapshot.connections === expected.connections && snapshot.subscriptions === expected.subscriptions
        );
      },
      10_000,
      `a snapshot summing all three instances (last: ${JSON.stringify(latest())}, expected ${JSON.stringify(expected)})`,
    );
    expect(latest()).toMatchObject(expected);
    expect(expected.connections).toBeGreaterThanOrEqual(3);
    expect(expected.subscriptions).toBeGreaterThanOrEqual(1);

    // The unprivileged get FORBIDDEN, whichever instance they ask.
    const denied = await connectAuthed(b.wsUrl, alice.token);
    denied.subscribe('stats', `subscription { serverStats { instances } }`);
    const end = await denied.waitFor((m) => m.id === 'stats' && (m.type === 'error' || m.type === 'complete'), 10_000);
    const errors = end.type === 'error' ? end.payload : denied.nexts('stats')[0]?.errors;
    expect(errors?.map((e: { extensions?: { code?: string } }) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  });
});
