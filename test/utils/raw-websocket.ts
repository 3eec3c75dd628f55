import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { onTestFinished } from 'vitest';
import { within } from './wait.ts';

export interface ServerFrame {
  opcode: number;
  payload: Buffer;
}

/**
 * A WebSocket client speaking the framing itself over a `net.Socket`, for peers no library client can play: one
 * that never answers the server's close frame and keeps sending after it (pitfalls §23). It sends masked text frames,
 * answers nothing (no pong, no close), and records what the server sends. Destroyed after the test.
 */
export interface RawWebSocket {
  readonly socket: Socket;
  /** Parsed JSON of every text frame, in order. */
  readonly messages: Array<{ type: string; id?: string; payload?: any }>;
  /** The server's close frame, once received (this client never answers it). */
  readonly closeFrame: Promise<{ code: number; reason: string }>;
  /** Resolves when the server ends or destroys the TCP connection. */
  readonly ended: Promise<void>;
  isEnded(): boolean;
  sendText(text: string): void;
  sendJson(message: object): void;
  waitFor(predicate: (message: { type: string; id?: string; payload?: any }) => boolean, timeoutMs?: number): Promise<void>;
}

/** Opens `ws://host:port/path` with the graphql-transport-ws subprotocol; rejects unless the server answers 101. */
export async function openRawWebSocket(wsUrl: string, headers: Record<string, string> = {}): Promise<RawWebSocket> {
  const url = new URL(wsUrl);
  const socket = connect({ host: url.hostname, port: Number(url.port) });
  socket.on('error', () => {});
  onTestFinished(() => {
    socket.destroy();
  });
  const messages: RawWebSocket['messages'] = [];
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of listeners) listener();
  };
  let ended = false;
  const endedPromise = new Promise<void>((resolve) => {
    const done = () => {
      ended = true;
      notify();
      resolve();
    };
    socket.once('end', done);
    socket.once('close', done);
  });
  let resolveClose!: (frame: { code: number; reason: string }) => void;
  const closeFrame = new Promise<{ code: number; reason: string }>((resolve) => (resolveClose = resolve));

  let buffer = Buffer.alloc(0);
  let upgraded = false;
  const handshake = new Promise<void>((resolve, reject) => {
    socket.once('close', () => reject(new Error('connection closed during the handshake')));
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString('latin1');
        buffer = buffer.subarray(end + 4);
        if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
        upgraded = true;
        resolve();
      }
      for (let frame = readFrame(); frame; frame = readFrame()) {
        if (frame.opcode === 0x1) messages.push(JSON.parse(frame.payload.toString('utf8')));
        else if (frame.opcode === 0x8) {
          resolveClose({
            code: frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005,
            reason: frame.payload.subarray(2).toString('utf8'),
          });
        }
        notify();
      }
    });
  });

  // Server frames are unmasked; payloads here are small, so 16-bit lengths are enough (64-bit read for safety).
  function readFrame(): ServerFrame | null {
    if (buffer.length < 2) return null;
    const opcode = buffer[0]! & 0x0f;
    let length = buffer[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (buffer.length < 4) return null;
      length = buffer.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (buffer.length < 10) return null;
      length = Number(buffer.readBigUInt64BE(2));
      offset = 10;
    }
    if (buffer.length < offset + length) return null;
    const payload = buffer.subarray(offset, offset + length);
    buffer = buffer.subarray(offset + length);
    return { opcode, payload };
  }

  const key = randomBytes(16).toString('base64');
  socket.write(
    `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n` +
      Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('') +
      '\r\n',
  );
  await within(handshake, 5_000, 'the WebSocket handshake');

  const sendText = (text: string) => {
    if (socket.destroyed) return;
    socket.write(maskedFrame(0x1, Buffer.from(text, 'utf8')));
  };
  return {
    socket,
    messages,
    closeFrame,
    ended: endedPromise,
    isEnded: () => ended,
    sendText,
    sendJson: (message) => sendText(JSON.stringify(message)),
    waitFor: (predicate, timeoutMs = 5_000) =>
      within(
        new Promise<void>((resolve, reject) => {
          const check = () => {
            if (messages.some(predicate)) {
              listeners.delete(check);
              resolve();
            } else if (ended) {
              listeners.delete(check);
              reject(new Error(`connection ended before the awaited message; got ${JSON.stringify(messages)}`));
            }
          };
          listeners.add(check);
          check();
        }),
        timeoutMs,
        'a server message',
      ),
  };
}

/** A client frame: FIN set, masked with a random key (RFC 6455 5.3). */
export function maskedFrame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const length = payload.length;
  const header = length < 126 ? Buffer.alloc(2) : length < 65_536 ? Buffer.alloc(4) : Buffer.alloc(10);
  header[0] = 0x80 | opcode;
  if (length < 126) header[1] = 0x80 | length;
  else if (length < 65_536) {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  const masked = Buffer.alloc(length);
  for (let i = 0; i < length; i += 1) masked[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, masked]);
}

/** An upgrade request as raw bytes, for sending and resetting at once (pitfalls §22). */
export function upgradeRequest(path: string, headers: Record<string, string> = {}): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n` +
    Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('') +
    '\r\n'
  );
}
