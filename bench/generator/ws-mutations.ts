import WebSocket from 'ws';
import { SUBPROTOCOL, operationId } from '../protocol.ts';
import type { GraphqlResult, MutationClient } from './publisher.ts';

const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Mutations over one graphql-transport-ws socket, as graphql-ws's client sends them when an app routes every
 * operation over its WebSocket: a `subscribe` per operation under a random id, answered by `next` then `complete`.
 * Operations are pipelined on the one socket, so the offered rate is not capped by round trips.
 */
export function createGraphqlWs(url: string, token: string, timeoutMs = 10_000): Promise<MutationClient> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, SUBPROTOCOL, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    const pending = new Map<
      string,
      { result: GraphqlResult; done: (r: GraphqlResult) => void; fail: (e: Error) => void; timer: NodeJS.Timeout }
    >();
    let ready = false;
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`mutation socket: no connection_ack within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    socket.on('error', (error) => {
      if (!ready) reject(error);
    });
    socket.on('close', (code) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`mutation socket closed ${code} before connection_ack`));
      for (const op of pending.values()) {
        clearTimeout(op.timer);
        op.fail(new Error(`mutation socket closed ${code}`));
      }
      pending.clear();
    });
    socket.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString('utf8')) as { type?: string; id?: string; payload?: unknown };
      if (msg.type === 'ping') return socket.send('{"type":"pong"}');
      if (msg.type === 'connection_ack') {
        ready = true;
        clearTimeout(timer);
        return resolve(client);
      }
      const op = msg.id === undefined ? undefined : pending.get(msg.id);
      if (!op || msg.id === undefined) return;
      if (msg.type === 'next') op.result = msg.payload as GraphqlResult;
      else if (msg.type === 'error') op.result = { errors: msg.payload as GraphqlResult['errors'] };
      if (msg.type === 'complete' || msg.type === 'error') {
        pending.delete(msg.id);
        clearTimeout(op.timer);
        op.done(op.result);
      }
    });
    const client: MutationClient = {
      post: (query, variables) =>
        new Promise((done, fail) => {
          if (socket.readyState !== WebSocket.OPEN) return fail(new Error('mutation socket is not open'));
          const id = operationId();
          const opTimer = setTimeout(() => {
            pending.delete(id);
            fail(new Error('mutation over WebSocket timed out'));
          }, REQUEST_TIMEOUT_MS);
          pending.set(id, { result: {}, done, fail, timer: opTimer });
          socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } }));
        }),
      close: () => socket.terminate(),
    };
  });
}
