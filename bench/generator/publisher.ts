import { Agent, request } from 'node:http';
import { CREATE_ROOM_MUTATION, SEND_MESSAGE_MUTATION, encodeBody, type BenchBody } from '../protocol.ts';
import { pool } from './pool.ts';

export interface GraphqlResult {
  data?: Record<string, { id?: string } | null>;
  errors?: Array<{ message: string }>;
}

/** Where the publisher's mutations go: GraphQL over HTTP, or over a graphql-transport-ws socket (ws-mutations.ts). */
export interface MutationClient {
  post(query: string, variables?: Record<string, unknown>): Promise<GraphqlResult>;
  close(): void;
}

const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Idle pooled connections are closed by the client before the server's keep-alive timeout (Node's default, 5 s)
 * closes them: Node 20's Agent ignores the server's `Keep-Alive: timeout=5` hint, and a request sent on a connection
 * the server is closing at that moment fails with "socket hang up" without reaching it (pitfalls §33).
 */
const IDLE_CONNECTION_MS = 4_000;

/** GraphQL over HTTP with a keep-alive pool: at most `maxSockets` connections, reused; more requests wait in the agent. */
export function createGraphqlHttp(url: string, token: string, maxSockets: number): MutationClient {
  // The agent's `timeout` applies to free sockets (destroyed when it fires); a request's own `timeout` below
  // replaces it while the request runs.
  const agent = new Agent({ keepAlive: true, maxSockets, timeout: IDLE_CONNECTION_MS });
  const target = new URL(url);
  return {
    post: (query, variables) =>
      new Promise((resolve, reject) => {
        const body = JSON.stringify({ query, variables });
        const req = request(
          {
            agent,
            host: target.hostname,
            port: target.port,
            path: target.pathname,
            method: 'POST',
            timeout: REQUEST_TIMEOUT_MS,
            headers: {
              'content-type': 'application/json',
              accept: 'application/json',
              authorization: `Bearer ${token}`,
              'content-length': Buffer.byteLength(body),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              try {
                resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as GraphqlResult);
              } catch (error) {
                reject(new Error(`HTTP ${res.statusCode}: unparsable body`, { cause: error }));
              }
            });
          },
        );
        req.on('timeout', () => req.destroy(new Error('request timed out')));
        req.on('error', reject);
        req.end(body);
      }),
    close: () => agent.destroy(),
  };
}

export async function createRoom(client: MutationClient): Promise<string> {
  const result = await client.post(CREATE_ROOM_MUTATION);
  const id = result.data?.createRoom?.id;
  if (!id) throw new Error(`createRoom failed: ${JSON.stringify(result.errors ?? result)}`);
  return id;
}

export interface PublishOutcome {
  /** Acknowledged message ids per room, in ack order. */
  acked: Map<string, string[]>;
  errors: number;
  errorSample: string | null;
  /** performance.now() of the first scheduled send and of the last acknowledgement. */
  startedAt: number;
  endedAt: number;
  /** Paced only: how far behind its slot the latest send left (the generator's own lag), ms. */
  maxSendLagMs: number;
}

function newOutcome(rooms: readonly string[]): PublishOutcome {
  return {
    acked: new Map(rooms.map((r) => [r, []])),
    errors: 0,
    errorSample: null,
    startedAt: performance.now(),
    endedAt: 0,
    maxSendLagMs: 0,
  };
}

async function sendOne(client: MutationClient, outcome: PublishOutcome, roomId: string, body: string): Promise<void> {
  try {
    const result = await client.post(SEND_MESSAGE_MUTATION, { roomId, body });
    const id = result.data?.sendMessage?.id;
    if (id) outcome.acked.get(roomId)?.push(id);
    else {
      outcome.errors += 1;
      outcome.errorSample ??= JSON.stringify(result.errors ?? result).slice(0, 300);
    }
  } catch (error) {
    outcome.errors += 1;
    outcome.errorSample ??= String(error).slice(0, 300);
  }
}

/**
 * Closed loop: `count` messages round-robin over `rooms`, or as many as fit in `untilMs`, never more than
 * `inflight` unacknowledged: as fast as the server takes them (saturated throughput), without an unbounded queue.
 */
export async function publish(
  client: MutationClient,
  rooms: readonly string[],
  limit: { count: number } | { forMs: number },
  inflight: number,
  kind: BenchBody['k'],
): Promise<PublishOutcome> {
  const outcome = newOutcome(rooms);
  const stopAt = 'forMs' in limit ? outcome.startedAt + limit.forMs : Infinity;
  const count = 'count' in limit ? limit.count : Infinity;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count && performance.now() < stopAt) {
      const roomId = rooms[next++ % rooms.length] ?? '';
      await sendOne(client, outcome, roomId, encodeBody(kind));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, inflight) }, lane));
  outcome.endedAt = performance.now();
  return outcome;
}

/** Sends one message to each room, `inflight` at a time (probes). */
export async function publishOnce(
  client: MutationClient,
  rooms: readonly string[],
  inflight: number,
  kind: BenchBody['k'],
): Promise<PublishOutcome> {
  const outcome = newOutcome(rooms);
  await pool(rooms, inflight, (roomId) => sendOne(client, outcome, roomId, encodeBody(kind)));
  outcome.endedAt = performance.now();
  return outcome;
}

/**
 * Open loop on a fixed schedule: message i is due at start + i / rate, round-robin over `rooms`, and carries its
 * due time in its body. Sends are never held back by slow acknowledgements (the server's backlog shows up as
 * latency from the due time, not as a lower offered rate: no coordinated omission).
 */
export async function publishPaced(
  client: MutationClient,
  rooms: readonly string[],
  messagesPerSec: number,
  forMs: number,
  kind: BenchBody['k'],
): Promise<PublishOutcome> {
  const outcome = newOutcome(rooms);
  const total = Math.max(1, Math.round((messagesPerSec * forMs) / 1000));
  const intervalMs = 1000 / messagesPerSec;
  const start = outcome.startedAt;
  const wallStart = performance.timeOrigin + start;
  const sends: Array<Promise<void>> = [];
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (next < total && start + next * intervalMs <= now) {
        outcome.maxSendLagMs = Math.max(outcome.maxSendLagMs, now - (start + next * intervalMs));
        const roomId = rooms[next % rooms.length] ?? '';
        sends.push(sendOne(client, outcome, roomId, encodeBody(kind, wallStart + next * intervalMs)));
        next += 1;
      }
      if (next >= total) return resolve();
      // Timers fire late by up to a few ms; the loop above catches up on every slot that came due meanwhile.
      setTimeout(tick, Math.max(0, Math.min(10, start + next * intervalMs - performance.now())));
    };
    tick();
  });
  await Promise.all(sends);
  outcome.endedAt = performance.now();
  return outcome;
}
