import { Agent, request } from 'node:http';
import { CREATE_ROOM_MUTATION, SEND_MESSAGE_MUTATION, encodeBody, type BenchBody } from '../protocol.ts';
import { pool } from './pool.ts';

/** GraphQL over HTTP with a keep-alive pool: one TCP connection per request in flight, reused. */
export interface GraphqlHttp {
  post(query: string, variables?: Record<string, unknown>): Promise<{ data?: Record<string, { id?: string }>; errors?: Array<{ message: string }> }>;
  close(): void;
}

const REQUEST_TIMEOUT_MS = 30_000;

export function createGraphqlHttp(url: string, token: string, maxSockets: number): GraphqlHttp {
  const agent = new Agent({ keepAlive: true, maxSockets });
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
            headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              try {
                resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Awaited<ReturnType<GraphqlHttp['post']>>);
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

export async function createRoom(http: GraphqlHttp): Promise<string> {
  const result = await http.post(CREATE_ROOM_MUTATION);
  const id = result.data?.createRoom?.id;
  if (!id) throw new Error(`createRoom failed: ${JSON.stringify(result.errors ?? result)}`);
  return id;
}

export interface PublishOutcome {
  /** Acknowledged message ids per room, in ack order. */
  acked: Map<string, string[]>;
  errors: number;
  errorSample: string | null;
  startedAt: number;
  endedAt: number;
}

/**
 * Sends `count` messages round-robin over `rooms`, never more than `inflight` unacknowledged: as fast as the
 * server takes them, without an unbounded queue in the generator.
 */
export async function publish(http: GraphqlHttp, rooms: readonly string[], count: number, inflight: number, kind: BenchBody['k']): Promise<PublishOutcome> {
  const acked = new Map<string, string[]>(rooms.map((r) => [r, []]));
  const outcome: PublishOutcome = { acked, errors: 0, errorSample: null, startedAt: performance.now(), endedAt: 0 };
  const targets = Array.from({ length: count }, (_, i) => rooms[i % rooms.length] ?? '');
  await pool(targets, inflight, async (roomId) => {
    try {
      const result = await http.post(SEND_MESSAGE_MUTATION, { r: roomId, b: encodeBody(kind) });
      const id = result.data?.sendMessage?.id;
      if (id) acked.get(roomId)?.push(id);
      else {
        outcome.errors += 1;
        outcome.errorSample ??= JSON.stringify(result.errors ?? result).slice(0, 300);
      }
    } catch (error) {
      outcome.errors += 1;
      outcome.errorSample ??= String(error).slice(0, 300);
    }
  });
  outcome.endedAt = performance.now();
  return outcome;
}
