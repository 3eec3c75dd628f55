import type { Connection, ConnectionRegistry } from './connection-registry.ts';

/**
 * One timer for every socket (not one per socket): each sweep terminates the sockets that did not answer
 * the previous sweep's ping, then pings the rest. A dead peer is therefore gone within two intervals, and its
 * subscriptions end through the same close path as a clean disconnect (presence left).
 */
export function startHeartbeat(
  registry: ConnectionRegistry,
  intervalMs: number,
  onReaped: (connection: Connection) => void,
  /** Other periodic housekeeping of the edge rides on this one timer. */
  afterSweep?: () => void,
) {
  const timer = setInterval(() => {
    for (const connection of registry.values()) {
      if (!connection.alive) {
        onReaped(connection);
        connection.socket.terminate();
        continue;
      }
      connection.alive = false;
      connection.socket.ping();
    }
    afterSweep?.();
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
