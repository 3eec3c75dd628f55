import type { Connection } from './connection-registry.ts';
import { nextHopMs } from '../timer-hops.ts';
import { CloseCode } from './close-codes.ts';

/** Closes the socket with 4403 when its token expires, so the client refreshes the token and reconnects. */
export function armTokenExpiry(connection: Connection, expiresAt: number): void {
  clearTokenExpiry(connection);
  const delay = nextHopMs(expiresAt);
  if (delay === null) {
    connection.socket.close(CloseCode.Forbidden, 'Token expired');
    return;
  }
  connection.expiryTimer = setTimeout(() => armTokenExpiry(connection, expiresAt), delay);
  connection.expiryTimer.unref();
}

export function clearTokenExpiry(connection: Connection): void {
  if (connection.expiryTimer) clearTimeout(connection.expiryTimer);
  connection.expiryTimer = null;
}
