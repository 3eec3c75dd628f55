import { CloseCode } from './close-codes.ts';
import type { Connection } from './connection-registry.ts';
import { DeadlineScheduler } from './deadline-scheduler.ts';

/**
 * The edge's per-socket deadlines, all on one timer (`deadline-scheduler.ts`) instead of a Timeout per socket:
 * - `token-expiry`: an acknowledged socket is closed 4403 when its token expires, so the client refreshes the token
 *   and reconnects.
 */
export class SocketDeadlines {
  readonly #scheduler = new DeadlineScheduler<Connection>((connection) => this.#due(connection));

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
    if (what === 'token-expiry') closeExpired(connection);
  }
}

const isOpen = ({ socket }: Connection) => socket.readyState === socket.OPEN;

function closeExpired(connection: Connection): void {
  connection.socket.close(CloseCode.Forbidden, 'Token expired');
}
