import WebSocket from 'ws';
import { SUBPROTOCOL, SUBSCRIPTION_DOCUMENTS, operationId, type DocumentKind } from '../protocol.ts';
import type { DecodedNext } from './frames.ts';

export interface SubscriberHooks {
  decode: (text: string, opId: string) => DecodedNext | null | undefined;
  onMessage: (event: DecodedNext, bytes: number) => void;
  onOtherFrame: (type: string, bytes: number) => void;
  /** A close after the ack (one before it rejects `openSubscriber` instead), with the socket that closed. */
  onClose: (code: number, socket: WebSocket) => void;
}

export interface SubscribeTarget {
  url: string;
  roomId: string;
  token: string;
  after: string | null;
  document: DocumentKind;
  /** Source address (any of 127.0.0.0/8): each one has its own ephemeral port range. */
  localAddress?: string;
  timeoutMs: number;
}

/**
 * One raw `ws` socket speaking graphql-transport-ws as a graphql-ws client does: init with the bearer token, wait
 * for the ack, subscribe to one room under a fresh random operation id. Resolves once `subscribe` is sent (the
 * protocol has no subscribe ack; the probe proves liveness).
 */
export function openSubscriber(target: SubscribeTarget, hooks: SubscriberHooks): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(target.url, SUBPROTOCOL, {
      perMessageDeflate: false,
      handshakeTimeout: target.timeoutMs,
      skipUTF8Validation: true,
      ...(target.localAddress ? { localAddress: target.localAddress } : {}),
    });
    const opId = operationId();
    let settled = false;
    let acked = false;
    const timer = setTimeout(() => fail(new Error(`no connection_ack within ${target.timeoutMs} ms`)), target.timeoutMs);
    function fail(error: Error): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.terminate();
      reject(error);
    }
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${target.token}` } })));
    socket.on('error', (error) => fail(error));
    socket.on('close', (code) => {
      if (acked) hooks.onClose(code, socket);
      else fail(new Error(`closed ${code} before connection_ack`));
    });
    socket.on('message', (data: Buffer) => {
      try {
        onFrame(data);
      } catch {
        hooks.onOtherFrame('unparsable', data.length);
      }
    });
    function onFrame(data: Buffer): void {
      const text = data.toString('utf8');
      // Most frames are `next`; test the cheap substring before decoding anything.
      if (text.includes('"type":"next"')) {
        const event = hooks.decode(text, opId);
        if (event) return hooks.onMessage(event, data.length);
        return hooks.onOtherFrame(event === undefined ? 'next (other id)' : 'next', data.length);
      }
      const type = (JSON.parse(text) as { type?: string }).type ?? 'unknown';
      if (type === 'ping') socket.send('{"type":"pong"}');
      if (type === 'connection_ack' && !settled) {
        const variables = target.after === null ? { roomId: target.roomId } : { roomId: target.roomId, after: target.after };
        socket.send(
          JSON.stringify({ id: opId, type: 'subscribe', payload: { query: SUBSCRIPTION_DOCUMENTS[target.document], variables } }),
        );
        settled = acked = true;
        clearTimeout(timer);
        resolve(socket);
      }
      hooks.onOtherFrame(type, data.length);
    }
  });
}
