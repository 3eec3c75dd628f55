import type { Connection } from './connection-registry.ts';
import { CloseCode } from './close-codes.ts';

// setTimeout fires after 1 ms for delays over 2^31-1 ms (PITFALLS 18): long waits are done in hops.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Closes the socket with 4403 when its token expires, so the client refreshes the token and reconnects. */
export function armTokenExpiry(connection: Connection, expiresAt: number): void {
  clearTokenExpiry(connection);
  const remaining = expiresAt - Date.now();
  if (remaining <= 0) {
    connection.socket.close(CloseCode.Forbidden, 'Token expired');
    return;
  }
  connection.expiryTimer = setTimeout(() => armTokenExpiry(connection, expiresAt), Math.min(remaining, MAX_TIMER_MS));
  connection.expiryTimer.unref();
}

export function clearTokenExpiry(connection: Connection): void {
  if (connection.expiryTimer) clearTimeout(connection.expiryTimer);
  connection.expiryTimer = null;
}
