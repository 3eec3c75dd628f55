import type { WebSocket as GraphQLWsSocket } from 'graphql-ws';
import type { RawData, WebSocket } from 'ws';
import type { Logger } from '../chat/logger.ts';
import type { Limits } from '../config.ts';
import { clipCloseReason, CloseCode } from './close-codes.ts';
import type { Connection } from './connection-registry.ts';
import type { InitFailureLimiter } from './init-failures.ts';
import { finishFrame, nextFrame, wasNextFrame } from './shared-frames.ts';
import type { SocketDeadlines } from './socket-deadlines.ts';
import type { WebSocketHooks } from './attach.ts';
import type { DirectSubscriptions, ProtocolContext } from './direct-subscriptions.ts';

/** What every session of one edge shares: passed by reference, so a session costs its own fields only. */
export interface EdgeContext {
  limits: Limits;
  logger: Logger;
  hooks: WebSocketHooks;
  initFailures: InitFailureLimiter;
  /** connection_init timeout and token expiry, one timer for every socket. */
  deadlines: SocketDeadlines;
  direct: DirectSubscriptions;
}

/** A Buffer is sent as a binary frame unless told otherwise; graphql-transport-ws frames are text. */
const TEXT_FRAME = { binary: false } as const;

const isUnexpectedMessageType = (error: unknown) =>
  error instanceof Error && error.message.startsWith('Unexpected message of type');

/**
 * One socket as graphql-ws sees it (`protocol`, `send`, `close`, `onMessage`) plus the edge's cut-offs
 * (frame rate, slow consumer). A class with the ws listeners shared by every socket (see `listen`): an idle
 * subscribed socket should cost its fields, not a dozen closures.
 */
export class SocketSession implements GraphQLWsSocket {
  handle: ((data: string) => Promise<void>) | null = null;
  closed: ((code: number, reason: string) => Promise<void>) | null = null;
  /** graphql-ws's state of this socket, once acknowledged (the direct path reads and writes its operations). */
  protocolContext: ProtocolContext | null = null;

  constructor(
    readonly socket: WebSocket,
    readonly connection: Connection,
    readonly edge: EdgeContext,
  ) {}

  get protocol(): string {
    return this.socket.protocol;
  }

  send(data: string): void {
    const { socket, edge } = this;
    // Both asked whatever happens next: they reset what the replacer left for this one frame.
    const frame = finishFrame(data);
    const delivery = wasNextFrame();
    if (socket.readyState !== socket.OPEN) return;
    socket.send(frame);
    if (delivery) edge.hooks.onDelivery?.();
    this.#cutOffIfSlow();
  }

  /**
   * A reader that stopped reading must not grow this process without bound (PITFALLS 10). Once closing, `send`
   * writes nothing more; the close frame queues behind what is buffered, and the close grace (`closeSocket`)
   * frees the socket if it never reads.
   */
  #cutOffIfSlow(): void {
    const { socket, edge } = this;
    if (socket.bufferedAmount <= edge.limits.slowConsumerBytes || socket.readyState !== socket.OPEN) return;
    edge.logger.warn(this.#ids(), 'slow consumer; closing 1013');
    edge.hooks.onSlowConsumer?.();
    this.closeSocket(CloseCode.TryAgainLater, 'Too slow: reconnect and resume with `after`');
  }

  /**
   * A `next` written directly (the direct path, `direct-subscriptions.ts`); `framePrefix` is the
   * operation's, from `nextFramePrefix`.
   */
  sendNext(framePrefix: string, result: object): void {
    const { socket } = this;
    if (socket.readyState !== socket.OPEN) return;
    socket.send(nextFrame(framePrefix, result), TEXT_FRAME);
    this.edge.hooks.onDelivery?.();
    this.#cutOffIfSlow();
  }

  /** graphql-ws's way to close the socket (4403 on a refused init, 4409, 4400, 4429...). */
  close(code: number, reason: string): void {
    const { socket, connection, edge } = this;
    // Already closing (4408 after a timed-out key fetch, then graphql-ws's own 4403): our fault, not counted.
    if (socket.readyState !== socket.OPEN) return;
    // graphql-ws closes 4403 when onConnect refuses the token: count it against the address.
    if (code === CloseCode.Forbidden && !connection.viewer) {
      edge.initFailures.recordFailure(connection.remoteAddress);
      edge.hooks.onInitRefused?.();
    }
    this.closeSocket(code, reason);
  }

  /**
   * The one way this server closes a socket, whoever decides it (graphql-ws, deadlines, cut-offs, shutdown). From
   * here on `receive` drops whatever the peer sends (ws keeps emitting 'message' while CLOSING, PITFALLS 23), the
   * reason is clipped to what a close frame holds (PITFALLS 24), and a peer that does not answer the close frame
   * is terminated after CLOSE_GRACE_MS instead of ws's 30 s. False when the socket was already closing.
   */
  closeSocket(code: number, reason: string): boolean {
    const { socket, connection, edge } = this;
    if (socket.readyState !== socket.OPEN) return false;
    socket.close(code, clipCloseReason(reason));
    edge.deadlines.closing(connection);
    return true;
  }

  onMessage(handle: (data: string) => Promise<void>): void {
    this.handle = handle;
  }

  receive(data: RawData, isBinary: boolean): void {
    // Nothing sent after the server decided to close may run, on either path (graphql-ws or direct).
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (this.overFrameRate() || !this.handle) return;
    if (isBinary) {
      this.closeSocket(CloseCode.BadRequest, 'Binary frames are not part of graphql-transport-ws');
      return;
    }
    const text = String(data);
    if (this.edge.direct.take(this, text)) return;
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
    this.edge.logger.error({ ...this.#ids(), err: error }, 'graphql-ws message handling failed');
    this.closeSocket(CloseCode.InternalServerError, 'Internal server error');
  }

  /** Counts a frame (pings included); closes 1008 and answers true past FRAME_RATE a second. */
  overFrameRate(): boolean {
    const { connection, socket, edge } = this;
    const now = Date.now();
    if (now - connection.frameWindowStart >= 1_000) {
      connection.frameWindowStart = now;
      connection.framesInWindow = 0;
    }
    connection.framesInWindow += 1;
    if (connection.framesInWindow <= edge.limits.frameRate) return false;
    if (socket.readyState === socket.OPEN) {
      edge.logger.warn(this.#ids(), 'frame rate exceeded; closing 1008');
      edge.hooks.onFrameRateExceeded?.();
      this.closeSocket(CloseCode.PolicyViolation, 'Frame rate exceeded');
    }
    return true;
  }

  #ids() {
    return { connectionId: this.connection.id, userId: this.connection.viewer?.id };
  }
}

const sessions = new WeakMap<WebSocket, SocketSession>();

function onMessage(this: WebSocket, data: RawData, isBinary: boolean) {
  sessions.get(this)?.receive(data, isBinary);
}
function onPing(this: WebSocket) {
  sessions.get(this)?.overFrameRate();
}
function onPong(this: WebSocket) {
  const session = sessions.get(this);
  if (!session) return;
  session.connection.alive = true;
  session.connection.lastPongAt = Date.now();
}
function onError(this: WebSocket, error: Error) {
  const session = sessions.get(this);
  if (!session) return;
  // ws closes with 1009 itself for oversize frames (and 1002/1007 for bad ones): bounded by the same close grace.
  if (this.readyState === this.CLOSING) session.edge.deadlines.closing(session.connection);
  session.edge.logger.info({ connectionId: session.connection.id, userId: session.connection.viewer?.id, err: error }, 'socket error');
}

/** Routes the socket's events to its session through listeners shared by every socket. */
export function listen(session: SocketSession, onClose: (this: WebSocket, code: number, reason: Buffer) => void): void {
  const { socket } = session;
  sessions.set(socket, session);
  socket.on('message', onMessage);
  socket.on('ping', onPing);
  socket.on('pong', onPong);
  socket.on('error', onError);
  socket.once('close', onClose);
}

export function sessionOf(socket: WebSocket): SocketSession | undefined {
  return sessions.get(socket);
}
