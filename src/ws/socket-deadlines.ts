import { CloseCode } from './close-codes.ts';
import type { Connection } from './connection-registry.ts';
import { DeadlineScheduler } from '../deadline-scheduler.ts';

export interface SocketDeadlineOptions {
  /** A socket the server closed is terminated if still not closed after this (CLOSE_GRACE_MS). @default 2_000 */
  closeGraceMs?: number;
  /** How a deadline closes a socket: the edge passes its one closing path (`SocketSession.closeSocket`). */
  close?: (connection: Connection, code: number, reason: string) => void;
}

const closeDirectly = ({ socket }: Connection, code: number, reason: string) => socket.close(code, reason);

/**
 * The edge's per-socket deadlines, all on one timer (`src/deadline-scheduler.ts`) instead of a Timeout per socket:
 * - `connection-init`: no connection_init within `initTimeoutMs` of the upgrade closes 4408, exactly as graphql-ws's
 *   own `connectionInitWaitTimeout` would (that one is disabled in `graphql-ws-server.ts`: it arms a timer per socket
 *   and keeps it referenced for the socket's whole life);
 * - `token-expiry`: an acknowledged socket is closed 4403 when its token expires, so the client refreshes the token
 *   and reconnects; a token refreshed in band (`refreshToken`) moves this deadline to its own expiry;
 * - `close-grace`: a socket the server closed is terminated when its peer has not answered the close frame in time
 *   (counted from when the frame could be read: a slow consumer's close frame waits behind its unread data).
 * A socket has one at a time: the first ends when connection_init arrives, before any token is known, and once the
 * server closes the socket only the grace is left.
 */
export class SocketDeadlines {
  readonly #scheduler = new DeadlineScheduler<Connection>((connection) => this.#due(connection));

  readonly closeGraceMs: number;
  readonly #close: (connection: Connection, code: number, reason: string) => void;

  constructor(
    readonly initTimeoutMs: number,
    { closeGraceMs = 2_000, close = closeDirectly }: SocketDeadlineOptions = {},
  ) {
    this.closeGraceMs = closeGraceMs;
    this.#close = close;
  }

  /** Starts the connection_init wait; graphql-ws disables it for a non-finite or non-positive value, and so do we. */
  opened(connection: Connection): void {
    if (this.initTimeoutMs > 0 && Number.isFinite(this.initTimeoutMs)) {
      this.#set(connection, 'connection-init', connection.connectedAt + this.initTimeoutMs);
    }
  }

  /**
   * connection_init arrived (graphql-ws's `ctx.connectionInitReceived`, set right before it calls `onConnect`): no
   * 4408 from here on, even while `onConnect` is still checking the token.
   */
  initReceived(connection: Connection): void {
    if (connection.deadlineFor === 'connection-init') this.#clear(connection);
  }

  /**
   * Closes the socket 4403 at `expiresAt` (epoch ms), or now if that has passed. Called again (an in-band refresh),
   * it moves the socket's deadline, earlier or later: the socket's token is the one it was last given.
   */
  expireAt(connection: Connection, expiresAt: number): void {
    // A socket already closing needs no deadline, and one already closed would sit in the heap until its expiry.
    if (!isOpen(connection)) return;
    if (expiresAt <= Date.now()) {
      this.#clear(connection);
      this.#close(connection, CloseCode.Forbidden, 'Token expired');
      return;
    }
    this.#set(connection, 'token-expiry', expiresAt);
  }

  /** The server sent its close frame: the peer has `closeGraceMs` to answer it once it can read it, then it is cut. */
  closing(connection: Connection): void {
    if (connection.deadlineFor === 'close-grace') return;
    this.#set(connection, 'close-grace', Date.now() + this.closeGraceMs);
  }

  closed(connection: Connection): void {
    this.#clear(connection);
  }

  /** Sockets still pending a deadline (for tests and diagnostics). */
  get size(): number {
    return this.#scheduler.size;
  }

  stop(): void {
    this.#scheduler.stop();
  }

  #set(connection: Connection, what: NonNullable<Connection['deadlineFor']>, at: number): void {
    connection.deadlineFor = what;
    this.#scheduler.schedule(connection, at);
  }

  #clear(connection: Connection): void {
    connection.deadlineFor = null;
    this.#scheduler.cancel(connection);
  }

  #due(connection: Connection): void {
    const what = connection.deadlineFor;
    connection.deadlineFor = null;
    if (what === 'close-grace') {
      const { socket } = connection;
      if (socket.readyState === socket.CLOSED) return;
      // The close frame still waits behind data the peer has not read (a slow consumer, 1013): it cannot answer
      // what it has not received, and once it reads again it should find the code. Its frames are dropped
      // meanwhile (`receive`), ws's own close timer (30 s) bounds the wait, and the grace starts over.
      if (socket.bufferedAmount > 0) return this.#set(connection, 'close-grace', Date.now() + this.closeGraceMs);
      socket.terminate();
      return;
    }
    if (!isOpen(connection)) return;
    if (what === 'connection-init') {
      // graphql-ws's code and reason, word for word (server.ts `connectionInitWait`).
      this.#close(connection, CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
    } else if (what === 'token-expiry') {
      this.#close(connection, CloseCode.Forbidden, 'Token expired');
    }
  }
}

const isOpen = ({ socket }: Connection) => socket.readyState === socket.OPEN;
