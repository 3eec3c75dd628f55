import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** What the server sent, as the raw client parsed it off the wire. */
export type Received =
  | { kind: 'text'; text: string; json: { type?: string; id?: string; payload?: unknown } | null }
  | { kind: 'binary'; bytes: number }
  | { kind: 'close'; code: number | null; reason: string }
  | { kind: 'ping' }
  | { kind: 'pong' };

export interface RawSocketOptions {
  port: number;
  path?: string;
  protocol?: string | null;
  headers?: Record<string, string>;
  /**
   * Answer the server's close frame with one of our own, as every library does. `false` is the peer that
   * never does (defect 2): ws then keeps the socket CLOSING for its close timeout.
   */
  answerClose?: boolean;
  answerPings?: boolean;
}

/**
 * A WebSocket client written on a bare TCP socket, so the fuzzer can do what no library lets it do: unmasked and
 * reserved-opcode frames, frames after a close, never answering a close, an RST at any byte.
 */
export class RawSocket {
  readonly received: Received[] = [];
  /** HTTP status of the upgrade answer; null until it arrived (or if it never did). */
  status: number | null = null;
  /** The TCP connection ended, by either side. */
  ended = false;
  readonly #socket: Socket;
  #buffer = Buffer.alloc(0);
  #upgraded = false;
  #sentClose = false;
  readonly #waiters = new Set<() => void>();
  readonly #answerClose: boolean;
  readonly #answerPings: boolean;

  private constructor(socket: Socket, options: RawSocketOptions) {
    this.#socket = socket;
    this.#answerClose = options.answerClose ?? true;
    this.#answerPings = options.answerPings ?? true;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.ended = true;
      this.#notify();
    });
  }

  /** Opens TCP and writes the upgrade request; does not wait for the answer (see `upgraded`). */
  static open(options: RawSocketOptions, request: string | Buffer = RawSocket.upgradeRequest(options)): RawSocket {
    const socket = connect({ port: options.port, host: '127.0.0.1' });
    socket.setNoDelay(true);
    const raw = new RawSocket(socket, options);
    socket.write(request);
    return raw;
  }

  static upgradeRequest({ path = '/graphql', protocol = 'graphql-transport-ws', headers = {} }: Partial<RawSocketOptions>): string {
    const lines = [
      `GET ${path} HTTP/1.1`,
      'Host: 127.0.0.1',
      'Connection: Upgrade',
      'Upgrade: websocket',
      'Sec-WebSocket-Version: 13',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      ...(protocol === null ? [] : [`Sec-WebSocket-Protocol: ${protocol}`]),
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    ];
    return `${lines.join('\r\n')}\r\n\r\n`;
  }

  /** Resolves true once switched to WebSocket, false on a refusal or an early end. Bounded. */
  async upgraded(timeoutMs = 5_000): Promise<boolean> {
    await this.until(() => this.status !== null || this.ended, timeoutMs).catch(() => undefined);
    return this.#upgraded;
  }

  /** Frames written now still reach the server (we have not sent FIN or reset). */
  get writable(): boolean {
    return !this.ended && !this.#socket.destroyed && !this.#socket.writableEnded;
  }

  get isUpgraded(): boolean {
    return this.#upgraded;
  }

  get closeFrame(): Extract<Received, { kind: 'close' }> | undefined {
    return this.received.find((r): r is Extract<Received, { kind: 'close' }> => r.kind === 'close');
  }

  messages(): Array<{ type?: string; id?: string; payload?: unknown }> {
    return this.received.flatMap((r) => (r.kind === 'text' && r.json ? [r.json] : []));
  }

  /** Writes one frame. `mask: false` and opcodes 3-7 / 11-15 are protocol violations the server must survive. */
  frame(opcode: number, payload: Buffer | string, { fin = true, mask = true }: { fin?: boolean; mask?: boolean } = {}): void {
    if (!this.writable) return;
    const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const length = body.length;
    const header: number[] = [(fin ? 0x80 : 0) | (opcode & 0x0f)];
    const maskBit = mask ? 0x80 : 0;
    if (length < 126) header.push(maskBit | length);
    else if (length < 65_536) header.push(maskBit | 126, length >> 8, length & 0xff);
    else {
      header.push(maskBit | 127, 0, 0, 0, 0);
      header.push((length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff);
    }
    let data: Buffer = body;
    const parts: Buffer[] = [Buffer.from(header)];
    if (mask) {
      const key = randomBytes(4);
      data = Buffer.alloc(length);
      for (let i = 0; i < length; i += 1) data[i] = body[i]! ^ key[i & 3]!;
      parts.push(key);
    }
    parts.push(data);
    this.#socket.write(Buffer.concat(parts));
  }

  text(data: string | object): void {
    this.frame(0x1, typeof data === 'string' ? data : JSON.stringify(data));
  }

  close(code?: number, reason = ''): void {
    this.#sentClose = true;
    const payload = code === undefined ? Buffer.alloc(0) : Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)]);
    this.frame(0x8, payload);
  }

  /** Bytes straight onto TCP (a partial frame, garbage). */
  writeRaw(bytes: Buffer | string): void {
    if (this.writable) this.#socket.write(bytes);
  }

  /** TCP RST: the peer vanished without a FIN (a killed tab behind NAT, a crashed proxy). */
  reset(): void {
    if (!this.#socket.destroyed) this.#socket.resetAndDestroy();
    this.ended = true;
  }

  /** FIN, then forget the socket. */
  end(): void {
    if (!this.#socket.destroyed) this.#socket.end();
  }

  destroy(): void {
    if (!this.#socket.destroyed) this.#socket.destroy();
    this.ended = true;
  }

  /** Waits (bounded) until `predicate` holds, re-checked on every frame and on the end of the connection. */
  until(predicate: () => boolean, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`raw socket: condition not met within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  #onData(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    if (!this.#upgraded) {
      const end = this.#buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.#buffer.subarray(0, end).toString('latin1');
      this.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      this.#buffer = this.#buffer.subarray(end + 4);
      if (this.status !== 101) {
        this.#notify();
        return;
      }
      this.#upgraded = true;
    }
    this.#parseFrames();
    this.#notify();
  }

  #parseFrames(): void {
    for (;;) {
      const buffer = this.#buffer;
      if (buffer.length < 2) return;
      const opcode = buffer[0]! & 0x0f;
      let length = buffer[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (buffer.length < offset + length) return;
      const payload = buffer.subarray(offset, offset + length);
      this.#buffer = buffer.subarray(offset + length);
      this.#onFrame(opcode, payload);
    }
  }

  #onFrame(opcode: number, payload: Buffer): void {
    if (opcode === 0x1) {
      const text = payload.toString('utf8');
      const json = parseJson(text);
      this.received.push({ kind: 'text', text, json });
      if (json?.type === 'ping') this.text({ type: 'pong' });
    } else if (opcode === 0x2) {
      this.received.push({ kind: 'binary', bytes: payload.length });
    } else if (opcode === 0x8) {
      const code = payload.length >= 2 ? payload.readUInt16BE(0) : null;
      this.received.push({ kind: 'close', code, reason: payload.subarray(2).toString('utf8') });
      if (this.#answerClose && !this.#sentClose) {
        this.close(code ?? undefined);
        this.end();
      }
    } else if (opcode === 0x9) {
      this.received.push({ kind: 'ping' });
      if (this.#answerPings) this.frame(0xa, payload);
    } else if (opcode === 0xa) {
      this.received.push({ kind: 'pong' });
    }
  }
}

type ServerFrame = { type?: string; id?: string; payload?: unknown };

function parseJson(text: string): ServerFrame | null {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as ServerFrame) : null;
  } catch {
    return null;
  }
}
