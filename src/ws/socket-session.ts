import type { WebSocket as GraphQLWsSocket } from 'graphql-ws';
import type { RawData, WebSocket } from 'ws';
import type { Logger } from '../chat/logger.ts';
import type { Viewer } from '../chat/types.ts';
import type { SocketSessionControl } from '../graphql/context.ts';
import { clipCloseReason, CloseCode } from './close-codes.ts';
import type { Connection } from './connection-registry.ts';
import type { ProtocolContext } from './types.ts';

/** An operation served outside graphql-ws, by the session's interceptor: ended by the session when the socket closes. */
export interface InterceptedOperation {
  readonly id: string;
  end(): void;
}

/**
 * Sees every text frame of an acknowledged or unacknowledged socket before graphql-ws does (the direct path,
 * `direct-subscriptions.ts`). What it takes, it answers itself, keeping its operations in the session (`hold`).
 */
export interface FrameInterceptor {
  /** Whether it took the frame; if not, graphql-ws gets it. */
  take(session: SocketSession, data: string): boolean;
}

/**
 * What a session needs from its edge, as values and callbacks. One object per edge, shared by every session by
 * reference: a session costs its own fields only.
 */
export interface SessionEnvironment {
  readonly logger: Logger;
  /** FRAME_RATE: frames a second (pings included) past which the socket is closed 1008. */
  readonly frameRate: number;
  /** SLOW_CONSUMER_BYTES: unsent bytes past which the socket is closed 1013. */
  readonly slowConsumerBytes: number;
  readonly interceptor: FrameInterceptor | null;
  /** The server sent its close frame: the peer now has the close grace to answer it. */
  closing(connection: Connection): void;
  onDelivery(): void;
  onSlowConsumer(): void;
  onFrameRateExceeded(): void;
  /** graphql-ws refused connection_init (4403 before ack). */
  onInitRefused(connection: Connection): void;
  /** The socket took a later token in band (`refreshToken`): its 4403 deadline moves to the new expiry. */
  tokenReplaced(connection: Connection): void;
  /** ws emitted 'close' (once per socket): the edge forgets it and graphql-ws ends its operations. */
  socketClosed(session: SocketSession, code: number, reason: Buffer): void;
}

/** A Buffer is sent as a binary frame unless told otherwise; graphql-transport-ws frames are text. */
const TEXT_FRAME = { binary: false } as const;

const isUnexpectedMessageType = (error: unknown) => error instanceof Error && error.message.startsWith('Unexpected message of type');

/**
 * One socket as graphql-ws sees it (`protocol`, `send`, `close`, `onMessage`) plus the edge's cut-offs (frame
 * rate, slow consumer) and the one closing path. A class, whose socket calls its methods (`session-socket.ts`):
 * an idle subscribed socket should cost its fields, not a dozen closures.
 */
export class SocketSession implements GraphQLWsSocket, SocketSessionControl {
  handle: ((data: string) => Promise<void>) | null = null;
  /** graphql-ws's close handler (what `makeServer().opened` returns). */
  closed: ((code: number, reason: string) => Promise<void>) | null = null;
  /** graphql-ws's state of this socket, once acknowledged. */
  protocolContext: ProtocolContext | null = null;
  /**
   * The interceptor's operations: the one a socket usually has in this field, a Map by id only from the second on
   * (an idle subscribed socket should not pay for a Map).
   */
  #intercepted: InterceptedOperation | Map<string, InterceptedOperation> | null = null;

  constructor(
    readonly socket: WebSocket,
    readonly connection: Connection,
    readonly env: SessionEnvironment,
  ) {}

  get protocol(): string {
    return this.socket.protocol;
  }

  get isOpen(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  /** Operations running on this socket on either path: what MAX_SUBSCRIPTIONS_PER_CONNECTION counts. */
  operationCount(): number {
    const ofGraphQLWs = this.protocolContext ? Object.keys(this.protocolContext.subscriptions).length : 0;
    return ofGraphQLWs + this.interceptedCount;
  }

  get interceptedCount(): number {
    const held = this.#intercepted;
    return held === null ? 0 : held instanceof Map ? held.size : 1;
  }

  /** The interceptor's operation `id`, if it holds one. */
  intercepted(id: string): InterceptedOperation | undefined {
    const held = this.#intercepted;
    if (held === null) return undefined;
    if (held instanceof Map) return held.get(id);
    return held.id === id ? held : undefined;
  }

  /** Records an operation of the interceptor under its id (not already held: the interceptor checked). */
  hold(operation: InterceptedOperation): void {
    const held = this.#intercepted;
    if (held === null) this.#intercepted = operation;
    else if (held instanceof Map) held.set(operation.id, operation);
    else
      this.#intercepted = new Map([
        [held.id, held],
        [operation.id, operation],
      ]);
  }

  /** Forgets `operation` (completed or failed); false when it was not held. */
  release(operation: InterceptedOperation): boolean {
    const held = this.#intercepted;
    if (held === operation) {
      this.#intercepted = null;
      return true;
    }
    if (!(held instanceof Map) || held.get(operation.id) !== operation) return false;
    held.delete(operation.id);
    if (held.size === 0) this.#intercepted = null;
    return true;
  }

  /** graphql-ws's frames (acks, pongs, results of its own operations, errors, completes). */
  send(data: string): void {
    if (!this.isOpen) return;
    this.socket.send(data);
    this.#cutOffIfSlow();
  }

  /** A `next` frame built by the delivery engine (the direct path): a delivery. */
  sendNext(frame: Buffer | string): void {
    if (!this.isOpen) return;
    this.socket.send(frame, TEXT_FRAME);
    this.env.onDelivery();
    this.#cutOffIfSlow();
  }

  /**
   * A reader that stopped reading must not grow this process without bound (pitfalls §10). Once closing, `send`
   * writes nothing more; the close frame queues behind what is buffered, and the close grace (`closeSocket`)
   * frees the socket if it never reads.
   */
  #cutOffIfSlow(): void {
    const { socket, env } = this;
    if (socket.bufferedAmount <= env.slowConsumerBytes || !this.isOpen) return;
    env.logger.warn(this.ids(), 'slow consumer; closing 1013');
    env.onSlowConsumer();
    this.closeSocket(CloseCode.TryAgainLater, 'Too slow: reconnect and resume with `after`');
  }

  /**
   * In-band token refresh: the operations the socket starts from now on read `connection.viewer`, and the one
   * deadline the socket has moves. Operations already running keep the viewer they started with (shared
   * subscriptions have none).
   */
  replaceViewer(viewer: Viewer): boolean {
    const { connection } = this;
    if (!this.isOpen || connection.viewer?.id !== viewer.id) return false;
    connection.viewer = viewer;
    this.env.tokenReplaced(connection);
    this.env.logger.info({ ...this.ids(), expiresAt: new Date(viewer.expiresAt).toISOString() }, 'token refreshed in band');
    return true;
  }

  /** graphql-ws's way to close the socket (4403 on a refused init, 4409, 4400, 4429...). */
  close(code: number, reason: string): void {
    // Already closing (4408 after a timed-out key fetch, then graphql-ws's own 4403): our fault, not counted.
    if (!this.isOpen) return;
    if (code === CloseCode.Forbidden && !this.connection.viewer) this.env.onInitRefused(this.connection);
    this.closeSocket(code, reason);
  }

  /**
   * The one way this server closes a socket, whoever decides it (graphql-ws, the direct path, deadlines, cut-offs,
   * shutdown). From here on `receive` drops whatever the peer sends (ws keeps emitting 'message' while CLOSING,
   * pitfalls §23), the reason is clipped to what a close frame holds (pitfalls §24), and a peer that does not answer
   * the close frame is terminated after CLOSE_GRACE_MS instead of ws's 30 s. False when already closing.
   */
  closeSocket(code: number, reason: string): boolean {
    if (!this.isOpen) return false;
    this.socket.close(code, clipCloseReason(reason));
    this.env.closing(this.connection);
    return true;
  }

  onMessage(handle: (data: string) => Promise<void>): void {
    this.handle = handle;
  }

  receive(data: RawData, isBinary: boolean): void {
    // Nothing sent after the server decided to close may run, on either path (graphql-ws or direct).
    if (!this.isOpen) return;
    if (this.overFrameRate() || !this.handle) return;
    if (isBinary) {
      this.closeSocket(CloseCode.BadRequest, 'Binary frames are not part of graphql-transport-ws');
      return;
    }
    const text = String(data);
    if (this.env.interceptor?.take(this, text)) return;
    this.handle(text).catch((error: unknown) => {
      if (isUnexpectedMessageType(error)) {
        // Client-sent server-only messages: a bad request, not a server fault (graphql-ws says 4500).
        this.closeSocket(CloseCode.BadRequest, 'Unexpected message type');
        return;
      }
      this.failInternally(error);
    });
  }

  /** What graphql-ws does with an error thrown while handling a frame, logged: 4500 for the whole socket. */
  failInternally(error: unknown): void {
    this.env.logger.error({ ...this.ids(), err: error }, 'graphql-ws message handling failed');
    this.closeSocket(CloseCode.InternalServerError, 'Internal server error');
  }

  /** The peer answered a heartbeat ping. */
  ponged(): void {
    this.connection.alive = true;
    this.connection.lastPongAt = Date.now();
  }

  errored(error: Error): void {
    // ws closes with 1009 itself for oversize frames (and 1002/1007 for bad ones): bounded by the same close grace.
    if (this.socket.readyState === this.socket.CLOSING) this.env.closing(this.connection);
    this.env.logger.info({ ...this.ids(), err: error }, 'socket error');
  }

  /** Counts a frame (pings included); closes 1008 and answers true past FRAME_RATE a second. */
  overFrameRate(): boolean {
    const { connection, env } = this;
    const now = Date.now();
    if (now - connection.frameWindowStart >= 1_000) {
      connection.frameWindowStart = now;
      connection.framesInWindow = 0;
    }
    connection.framesInWindow += 1;
    if (connection.framesInWindow <= env.frameRate) return false;
    if (this.isOpen) {
      env.logger.warn(this.ids(), 'frame rate exceeded; closing 1008');
      env.onFrameRateExceeded();
      this.closeSocket(CloseCode.PolicyViolation, 'Frame rate exceeded');
    }
    return true;
  }

  /** The socket closed: ends the intercepted operations, then graphql-ws's own. */
  ended(code: number, reason: string): Promise<void> {
    const held = this.#intercepted;
    this.#intercepted = null;
    if (held instanceof Map) for (const operation of held.values()) operation.end();
    else held?.end();
    return this.closed?.(code, reason) ?? Promise.resolve();
  }

  /** What every log line about this socket carries. */
  ids(): { connectionId: string; userId: string | undefined } {
    return { connectionId: this.connection.id, userId: this.connection.viewer?.id };
  }
}
