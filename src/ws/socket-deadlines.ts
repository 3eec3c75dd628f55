import { CloseCode } from './close-codes.ts';
import type { Connection } from './connection-registry.ts';
import { DeadlineScheduler } from '../deadline-scheduler.ts';

/**
 * The edge's per-socket deadlines, all on one timer (`src/deadline-scheduler.ts`) instead of a Timeout per socket:
 * - `connection-init`: no connection_init within `initTimeoutMs` of the upgrade closes 4408, exactly as graphql-ws's
 *   own `connectionInitWaitTimeout` would (that one is disabled in `graphql-ws-server.ts`: it arms a timer per socket
 *   and keeps it referenced for the socket's whole life);
 * - `token-expiry`: an acknowledged socket is closed 4403 when its token expires, so the client refreshes the token
 *   and reconnects.
 * A socket has one at a time: the first ends when connection_init arrives, before any token is known.
 */
export class SocketDeadlines {
  readonly #scheduler = new DeadlineScheduler<Connection>((connection) => this.#due(connection));

  constructor(readonly initTimeoutMs: number) {}

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

  /** Closes the socket 4403 at `expiresAt` (epoch ms), or now if that has passed. */
  expireAt(connection: Connection, expiresAt: number): void {
    // A socket already closing needs no deadline, and one already closed would sit in the heap until its expiry.
    if (!isOpen(connection)) return;
    if (expiresAt <= Date.now()) {
      this.#clear(connection);
      closeExpired(connection);
      return;
    }
    this.#set(connection, 'token-expiry', expiresAt);
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
    if (!isOpen(connection)) return;
    if (what === 'connection-init') {
      // graphql-ws's code and reason, word for word (server.ts `connectionInitWait`).
      connection.socket.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
    } else if (what === 'token-expiry') {
      closeExpired(connection);
    }
  }
}

const isOpen = ({ socket }: Connection) => socket.readyState === socket.OPEN;

function closeExpired(connection: Connection): void {
  connection.socket.close(CloseCode.Forbidden, 'Token expired');
}
