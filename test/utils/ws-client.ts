import { onTestFinished } from 'vitest';
import WebSocket, { type ClientOptions } from 'ws';
import { within } from './wait.ts';

export interface ServerMessage {
  type: string;
  id?: string;
  payload?: any;
}

export interface RawClient {
  socket: WebSocket;
  /** Every message received, in order. */
  received: ServerMessage[];
  /** Resolves with the close code and reason whenever the socket closes. */
  closed: Promise<{ code: number; reason: string }>;
  isAcked(): boolean;
  send(message: object | string): void;
  /** connection_init with `{ authorization: "Bearer <token>" }` (or `payload` as given); resolves on ack. */
  init(tokenOrPayload?: string | Record<string, unknown> | null): Promise<void>;
  subscribe(id: string, query: string, variables?: Record<string, unknown>): void;
  complete(id: string): void;
  /** Payloads of the `next` messages for `id`, in order. */
  nexts(id: string): any[];
  /** Waits until `id` has at least `count` next messages; returns them. */
  waitForNexts(id: string, count: number, timeoutMs?: number): Promise<any[]>;
  waitFor(predicate: (message: ServerMessage) => boolean, timeoutMs?: number): Promise<ServerMessage>;
  close(code?: number): Promise<void>;
}

/**
 * A raw graphql-transport-ws client on `ws`, for asserting the wire: exact frames and close codes,
 * including the ones a well-behaved library client would never produce. Closed after the test.
 */
export async function connectRaw(
  wsUrl: string,
  options: { protocol?: string; headers?: Record<string, string>; client?: ClientOptions } = {},
): Promise<RawClient> {
  // `client`: ws options such as `autoPong: false` (a dead peer) or `localAddress: '127.0.0.2'` (another address).
  const socket = new WebSocket(wsUrl, options.protocol ?? 'graphql-transport-ws', { ...options.client, headers: options.headers ?? {} });
  const received: ServerMessage[] = [];
  const listeners = new Set<() => void>();
  let acked = false;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.once('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      for (const listener of listeners) listener();
    });
  });
  socket.on('message', (data, isBinary) => {
    // graphql-transport-ws is text only: a browser would hand a binary frame over as a Blob, not a message.
    const message: ServerMessage = isBinary ? { type: 'binary frame' } : (JSON.parse(String(data)) as ServerMessage);
    if (message.type === 'connection_ack') acked = true;
    if (message.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
    received.push(message);
    for (const listener of listeners) listener();
  });
  socket.on('error', () => {});
  onTestFinished(() => {
    if (socket.readyState !== WebSocket.CLOSED) socket.terminate();
  });
  await within(
    new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
      socket.once('error', reject);
    }),
    5_000,
    'socket open',
  );

  const waitFor = (predicate: (m: ServerMessage) => boolean, timeoutMs = 5_000) =>
    within(
      new Promise<ServerMessage>((resolve, reject) => {
        const check = () => {
          const found = received.find(predicate);
          if (found) {
            listeners.delete(check);
            resolve(found);
          } else if (socket.readyState === WebSocket.CLOSED) {
            listeners.delete(check);
            reject(new Error(`socket closed before the awaited message; received ${JSON.stringify(received)}`));
          }
        };
        listeners.add(check);
        check();
      }),
      timeoutMs,
      'a server message',
    );

  const client: RawClient = {
    socket,
    received,
    closed,
    isAcked: () => acked,
    send: (message) => socket.send(typeof message === 'string' ? message : JSON.stringify(message)),
    async init(tokenOrPayload) {
      const payload = typeof tokenOrPayload === 'string' ? { authorization: `Bearer ${tokenOrPayload}` } : (tokenOrPayload ?? undefined);
      client.send(payload === undefined ? { type: 'connection_init' } : { type: 'connection_init', payload });
      await waitFor((m) => m.type === 'connection_ack');
    },
    subscribe(id, query, variables = {}) {
      client.send({ id, type: 'subscribe', payload: { query, variables } });
    },
    complete(id) {
      client.send({ id, type: 'complete' });
    },
    nexts: (id) => received.filter((m) => m.id === id && m.type === 'next').map((m) => m.payload),
    async waitForNexts(id, count, timeoutMs = 5_000) {
      await waitFor(() => client.nexts(id).length >= count, timeoutMs).catch((error: Error) => {
        throw new Error(`${error.message}: wanted ${count} next for ${id}, got ${JSON.stringify(client.nexts(id))}`);
      });
      return client.nexts(id);
    },
    waitFor,
    async close(code = 1000) {
      socket.close(code);
      await within(closed, 5_000, 'close');
    },
  };
  return client;
}

/** Connects and authenticates; fails the test if there is no ack. */
export async function connectAuthed(wsUrl: string, token: string): Promise<RawClient> {
  const client = await connectRaw(wsUrl);
  await client.init(token);
  return client;
}
