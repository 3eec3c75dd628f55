import { describe, expect, it } from 'vitest';
import { createRoom, eventsOf, history, messageIds, send, sendHttp, user } from '../utils/chat.ts';
import { errorCodes } from '../utils/http-client.ts';
import { waitFor } from '../utils/wait.ts';
import { checkLedger, expectNoUnhandled, printOutputOnFailure, readyStatus, startSenders, subscriber, useCluster } from './helpers.ts';

// Two instances on one Redis that runs with AOF and `appendfsync always` (pitfalls §19): a restart is a crash
// that keeps every acknowledged write, which is what "an acknowledged message is never lost" needs.
const cluster = useCluster(2, {}, { durable: true });

/** Two senders (one through each instance) and two subscribers (one on each), all open before the fault. */
async function trafficSetup(label: string) {
  const { nodes, redis, prefix } = cluster();
  printOutputOnFailure(nodes);
  const [a, b] = [nodes[0]!, nodes[1]!];
  // Each test starts from a healthy cluster, whatever the previous one did to Redis.
  for (const node of nodes) await waitFor(async () => (await readyStatus(node.url)) === 200, 15_000, 'cluster ready');
  const [alice, bob, carol, dave] = await Promise.all(['alice', 'bob', 'carol', 'dave'].map(user));
  const roomId = await createRoom(a.graphqlUrl, alice!.token, { name: label });
  const subscribers = [
    { client: await subscriber(a.wsUrl, carol!.token, roomId), id: 's', name: 'carol on instance A' },
    { client: await subscriber(b.wsUrl, dave!.token, roomId), id: 's', name: 'dave on instance B' },
  ];
  const senders = startSenders(
    [
      { graphqlUrl: a.graphqlUrl, token: alice!.token },
      { graphqlUrl: b.graphqlUrl, token: bob!.token },
    ],
    roomId,
    label,
  );
  const check = async (fault: string) => {
    await senders.stop();
    const line = await checkLedger({ ledger: senders.ledger, subscribers, graphqlUrl: b.graphqlUrl, token: alice!.token, roomId, fault });
    expectNoUnhandled(nodes);
    for (const node of nodes) expect((await fetch(`${node.url}/health`, { signal: AbortSignal.timeout(3_000) })).status).toBe(200);
    return line;
  };
  return { nodes, a, b, redis, prefix, roomId, alice: alice!, senders, subscribers, check };
}

describe('Redis faults, each followed by a ledger check', () => {
  it('survives a Redis crash and restart mid-traffic: UNAVAILABLE while down, then every acknowledged message once, in order, on the same sockets', async () => {
    const { nodes, redis, senders, check } = await trafficSetup('restart');
    await senders.moreAcked(20);
    await redis.stop();
    await senders.unavailableAtLeast(2);
    for (const node of nodes) await waitFor(async () => (await readyStatus(node.url)) === 503, 10_000, '/ready 503 while Redis is down');
    await redis.restart();
    for (const node of nodes) await waitFor(async () => (await readyStatus(node.url)) === 200, 15_000, '/ready 200 after the restart');
    await senders.moreAcked(20);
    await check('Redis SIGKILLed and restarted (AOF, appendfsync always)');
  });

  it('fills the gap when every subscriber connection is killed (CLIENT KILL TYPE pubsub)', async () => {
    const { nodes, redis, senders, check } = await trafficSetup('client-kill');
    await senders.moreAcked(15);
    const killed = Number(await redis.command('CLIENT', 'KILL', 'TYPE', 'pubsub'));
    expect(killed).toBeGreaterThanOrEqual(2); // at least one per instance
    await senders.moreAcked(20);
    await check('CLIENT KILL TYPE pubsub');
    // The event target noticed and refilled from history rather than silently missing what was published meanwhile.
    for (const node of nodes) expect(node.output()).toContain('resubscribed after a reconnect');
  });

  it('answers UNAVAILABLE while Redis is frozen (SIGSTOP) and stores none of those messages, even once Redis resumes', async () => {
    const { nodes, redis, senders, check } = await trafficSetup('pause');
    await senders.moreAcked(15);
    redis.pause();
    try {
      // A send's one round trip is its append, whose missing reply is waited for (3 command timeouts) and then
      // settled (up to 10 more) before UNAVAILABLE: the sender's HTTP client gives up on that one first; its
      // later sends get theirs within one command timeout (the store probes a stalled Redis before sending).
      await senders.unavailableAtLeast(2, 30_000);
      for (const node of nodes)
        await waitFor(async () => (await readyStatus(node.url)) === 503, 10_000, '/ready 503 while Redis is frozen');
    } finally {
      redis.resume();
    }
    for (const node of nodes) await waitFor(async () => (await readyStatus(node.url)) === 200, 15_000, '/ready 200 after resume');
    await senders.moreAcked(20);
    await check('Redis frozen with SIGSTOP, then SIGCONT');
  });

  it('logs and drops poison payloads on a room channel: no instance dies, delivery goes on', async () => {
    const { nodes, redis, prefix, roomId, senders, check } = await trafficSetup('poison');
    await senders.moreAcked(10);
    const channel = `${prefix}room-events:${roomId}`;
    const poison = [
      'x',
      '{"kind":"message"',
      JSON.stringify({ kind: 'message', roomId }),
      JSON.stringify({ kind: 'joined', roomId: 'another-room', user: { id: 'mallory', name: 'Mallory' }, at: new Date().toISOString() }),
    ];
    for (const payload of poison) expect(Number(await redis.command('PUBLISH', channel, payload))).toBe(nodes.length);
    await senders.moreAcked(20);
    await check('poison payloads published on the room channel');
    for (const node of nodes) {
      expect(node.output()).toContain('dropped a malformed pub/sub payload');
      expect((await fetch(`${node.url}/health`)).status).toBe(200);
    }
  });

  it('drops a forged message with a far-ahead seq instead of letting it stall the room', async () => {
    const { nodes, redis, prefix, roomId, senders, subscribers, check } = await trafficSetup('forged');
    await senders.moreAcked(10);
    // Well-formed, so the codec accepts it; its seq is not in history. A hub that trusted it would skip to
    // seq 1000000 and then drop every real message as "already seen".
    const forged = JSON.stringify({
      kind: 'message',
      roomId,
      message: {
        seq: 1_000_000,
        author: { id: 'mallory', name: 'Mallory' },
        body: 'forged',
        sentAt: new Date().toISOString(),
        clientMessageId: null,
      },
    });
    expect(Number(await redis.command('PUBLISH', `${prefix}room-events:${roomId}`, forged))).toBe(nodes.length);
    await senders.moreAcked(20);
    await check('a forged far-ahead message published on the room channel');
    for (const { client, name } of subscribers) {
      expect(
        eventsOf(client, 's').filter((e) => e.message?.body === 'forged'),
        `${name} got the forged message`,
      ).toEqual([]);
    }
  });

  it('answers sendMessage with UNAVAILABLE and stores nothing while Redis is down; /ready is 503 until it is back', async () => {
    const { nodes } = cluster();
    printOutputOnFailure(nodes);
    const { redis } = cluster();
    const [a, b] = [nodes[0]!, nodes[1]!];
    for (const node of nodes) await waitFor(async () => (await readyStatus(node.url)) === 200, 15_000, 'cluster ready');
    const alice = await user('alice');
    const roomId = await createRoom(a.graphqlUrl, alice.token);
    const watcher = await subscriber(b.wsUrl, alice.token, roomId);
    const before = await send(a.graphqlUrl, alice.token, roomId, 'before the outage');

    await redis.stop();
    try {
      for (const node of nodes) {
        const refused = await sendHttp(node.graphqlUrl, alice.token, roomId, `during the outage via ${node.port}`, `outage-${node.port}`);
        expect(errorCodes(refused)).toEqual(['UNAVAILABLE']);
        expect(refused.data ?? null).toBeNull();
        expect(await readyStatus(node.url)).toBe(503);
      }
    } finally {
      await redis.restart();
    }
    for (const node of nodes) await waitFor(async () => (await readyStatus(node.url)) === 200, 15_000, '/ready 200 once Redis is back');

    const after = await send(b.graphqlUrl, alice.token, roomId, 'after the outage');
    expect((await history(a.graphqlUrl, alice.token, roomId)).map((m) => m.body)).toEqual(['before the outage', 'after the outage']);
    await waitFor(() => messageIds(eventsOf(watcher, 's')).includes(after.id), 10_000, 'delivery after the outage');
    expect(messageIds(eventsOf(watcher, 's'))).toEqual([before.id, after.id]);
    expectNoUnhandled(nodes);
  });
});
