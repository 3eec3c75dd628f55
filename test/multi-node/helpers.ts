import { afterAll, beforeAll, expect, onTestFinished } from 'vitest';
import { ROOM_EVENTS, eventsOf, history, messageIds, sendHttp, type RoomEventPayload, type SentMessage } from '../utils/chat.ts';
import { type Instance, startInstance } from '../utils/instance.ts';
import { type RedisServer, type RedisServerOptions, useRedis } from '../utils/redis-server.ts';
import { waitFor } from '../utils/wait.ts';
import { connectAuthed, type RawClient } from '../utils/ws-client.ts';

/**
 * Small timeouts so faults resolve in a second or two: a dead instance's members are reaped after 1.5 s,
 * typing ends after 0.5 s, and the per-user rate never gets in the way of the senders.
 */
export const FAST_ENV: Record<string, string> = {
  PRESENCE_TTL_MS: '1500',
  HEARTBEAT_INTERVAL_MS: '500',
  TYPING_TTL_MS: '500',
  MESSAGE_RATE: '1000',
  SHUTDOWN_TIMEOUT_MS: '4000',
};

export interface Cluster {
  prefix: string;
  nodes: Instance[];
  env: Record<string, string>;
}

export interface SharedCluster extends Cluster {
  redis: RedisServer;
}

/** What every instance of a cluster on `redis` under `prefix` is started with. */
const clusterEnv = (redis: RedisServer, prefix: string, env: Record<string, string>): Record<string, string> => ({
  ...FAST_ENV,
  REDIS_URL: redis.url,
  REDIS_PREFIX: prefix,
  ...env,
});

/**
 * One redis-server and `count` instances for the whole file, started in `beforeAll` and killed in `afterAll`:
 * starting processes is most of a multi-node test's cost, so tests share them and isolate themselves by room.
 */
export function useCluster(count: number, env: Record<string, string> = {}, redisOptions: RedisServerOptions = {}): () => SharedCluster {
  let shared: SharedCluster | undefined;
  // Registered first, so its afterAll runs last (vitest runs after-hooks as a stack): instances die before Redis.
  const useServer = useRedis(redisOptions);
  const nodes: Instance[] = [];
  beforeAll(async () => {
    const redis = useServer();
    const prefix = redis.newPrefix();
    const instanceEnv = clusterEnv(redis, prefix, env);
    await Promise.all(
      Array.from({ length: count }, async () => nodes.push(await startInstance({ env: instanceEnv, disposeAfterTest: false }))),
    );
    shared = { redis, prefix, nodes, env: instanceEnv };
  });
  afterAll(async () => {
    // A test may leave Redis frozen; the instances' shutdown needs it answering.
    useServer().resume();
    await Promise.all(nodes.map((node) => node.dispose()));
  });
  return () => {
    if (!shared) throw new Error('cluster not started');
    return shared;
  };
}

/** Prints what each instance logged when the current test fails (Redis errors, unhandled rejections, crashes). */
export function printOutputOnFailure(nodes: Instance[]) {
  onTestFinished(({ task }) => {
    if (task.result?.state === 'fail') {
      nodes.forEach((node, index) => console.error(`--- instance ${index} (pid ${node.pid}) output:\n${node.output().slice(-6_000)}`));
    }
  });
}

/** `count` instances sharing `redis` under a fresh prefix; killed and their keys deleted after the test. */
export async function startCluster(
  redis: RedisServer,
  count: number,
  env: Record<string, string> = {},
  prefix = redis.newPrefix(),
): Promise<Cluster> {
  onTestFinished(async () => {
    redis.resume();
    await redis.deleteKeys(prefix).catch(() => undefined);
  });
  const instanceEnv = clusterEnv(redis, prefix, env);
  const nodes = await Promise.all(Array.from({ length: count }, () => startInstance({ env: instanceEnv })));
  printOutputOnFailure(nodes);
  return { prefix, nodes, env: instanceEnv };
}

/**
 * A raw WS client subscribed to the room as operation `s`; resolves once live, i.e. once its first event (the
 * user's own MemberJoined) arrived. Only for a user not yet present in the room: a second tab gets no event.
 */
export async function subscriber(wsUrl: string, token: string, roomId: string): Promise<RawClient> {
  const client = await connectAuthed(wsUrl, token);
  client.subscribe('s', ROOM_EVENTS, { roomId });
  await client.waitForNexts('s', 1, 10_000);
  return client;
}

export const presenceOf = (events: RoomEventPayload[], userId?: string) =>
  events
    .filter((e) => (e.__typename === 'MemberJoined' || e.__typename === 'MemberLeft') && (!userId || e.user!.id === userId))
    .map((e) => `${e.__typename}:${e.user!.id}`);

/** What the senders got back: acknowledged messages, UNAVAILABLE bodies, and anything else. */
export interface Ledger {
  acked: SentMessage[];
  unavailable: string[];
  /** Other outcomes (other codes, HTTP failures), as `body: reason`; ambiguous, so only counted. */
  other: string[];
}

export interface Senders {
  ledger: Ledger;
  /** Resolves once at least `count` more messages than now have been acknowledged. */
  moreAcked(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves once at least `count` sends got UNAVAILABLE. */
  unavailableAtLeast(count: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * One send loop per entry of `through` (a GraphQL URL and a sender's token), each sending unique bodies (also
 * used as clientMessageId) one at a time, as a client would, until `stop`.
 */
export function startSenders(through: Array<{ graphqlUrl: string; token: string }>, roomId: string, label: string): Senders {
  const ledger: Ledger = { acked: [], unavailable: [], other: [] };
  let running = true;
  const loops = through.map(async ({ graphqlUrl, token }, sender) => {
    for (let i = 0; running; i++) {
      const body = `${label}-${sender}-${i}`;
      try {
        const response = await sendHttp(graphqlUrl, token, roomId, body, body);
        if (response.data?.sendMessage) ledger.acked.push(response.data.sendMessage);
        else if (response.errors?.[0]?.extensions?.code === 'UNAVAILABLE') ledger.unavailable.push(body);
        else ledger.other.push(`${body}: ${JSON.stringify(response.errors)}`);
      } catch (error) {
        ledger.other.push(`${body}: ${(error as Error).message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
  });
  const stop = async () => {
    running = false;
    await Promise.all(loops);
  };
  onTestFinished(stop);
  return {
    ledger,
    moreAcked(count, timeoutMs = 15_000) {
      const target = ledger.acked.length + count;
      return waitFor(() => ledger.acked.length >= target, timeoutMs, `${count} more acknowledged sends (ledger: ${summary(ledger)})`);
    },
    unavailableAtLeast(count, timeoutMs = 15_000) {
      return waitFor(() => ledger.unavailable.length >= count, timeoutMs, `${count} UNAVAILABLE sends (ledger: ${summary(ledger)})`);
    },
    stop,
  };
}

const summary = (ledger: Ledger) =>
  `${ledger.acked.length} acked, ${ledger.unavailable.length} UNAVAILABLE, ${ledger.other.length} other${ledger.other.length ? ` (first: ${ledger.other[0]})` : ''}`;

export interface LedgerCheckInput {
  ledger: Ledger;
  /** Subscriptions (client and operation id) open since before the first send. */
  subscribers: Array<{ client: RawClient; id: string; name: string }>;
  graphqlUrl: string;
  token: string;
  roomId: string;
  fault: string;
}

/**
 * The ledger check: every acknowledged message is in history exactly once; no UNAVAILABLE one is; and every
 * subscriber, on the socket it opened before the fault, received the room's history exactly once and in order.
 * Returns a one-line summary (printed, and recorded in docs/cluster.md).
 */
export async function checkLedger({ ledger, subscribers, graphqlUrl, token, roomId, fault }: LedgerCheckInput): Promise<string> {
  const stored = await history(graphqlUrl, token, roomId, 500);
  expect(stored.length, 'history must fit in one page for the check; send fewer messages').toBeLessThan(500);
  const ids = stored.map((m) => m.id);
  expect(new Set(ids).size, 'no message stored twice').toBe(ids.length);
  expect(ids, 'history in id order').toEqual([...ids].sort());

  const storedIds = new Set(ids);
  expect(
    ledger.acked.filter((m) => !storedIds.has(m.id)),
    'acknowledged messages missing from history',
  ).toEqual([]);
  const bodies = stored.map((m) => m.body);
  expect(new Set(bodies).size, 'one stored copy per body (clientMessageId made retries idempotent)').toBe(bodies.length);
  const storedBodies = new Set(bodies);
  expect(
    ledger.unavailable.filter((body) => storedBodies.has(body)),
    'messages answered UNAVAILABLE but stored',
  ).toEqual([]);

  const lastId = ids.at(-1);
  for (const { client, id, name } of subscribers) {
    await waitFor(
      () => messageIds(eventsOf(client, id)).includes(lastId as string),
      15_000,
      `${name} to receive the last stored message ${lastId} (got ${messageIds(eventsOf(client, id)).length} of ${ids.length})`,
    );
    const received = messageIds(eventsOf(client, id));
    expect(received, `${name}: every stored message once, in history order`).toEqual(ids);
    expect(
      client.received.filter((m) => m.id === id && m.type !== 'next'),
      `${name}: subscription neither errored nor completed`,
    ).toEqual([]);
    expect(client.socket.readyState, `${name}: still on the socket it opened before the fault`).toBe(client.socket.OPEN);
  }
  const line = `[ledger] ${fault}: ${summary(ledger)}; history ${ids.length}; ${subscribers.length} subscribers each received ${ids.length} once, in order`;
  console.log(line);
  return line;
}

/** Fails if an instance logged an unhandled rejection or an uncaught exception. */
export function expectNoUnhandled(nodes: Instance[]) {
  for (const node of nodes) expect(node.output(), `instance ${node.pid} output`).not.toMatch(/unhandled|uncaught/i);
}

export const readyStatus = async (url: string) => {
  try {
    return (await fetch(`${url}/ready`, { signal: AbortSignal.timeout(3_000) })).status;
  } catch {
    return 0;
  }
};
