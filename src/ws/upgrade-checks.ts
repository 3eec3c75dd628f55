import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

export interface UpgradeLimits {
  path: string;
  allowedOrigins: readonly string[];
}

export type UpgradeRefusal = { status: 403 | 404 | 429 | 503; reason: string; retryAfterSeconds?: number };

/**
 * Decided before the protocol switch, so a refused client sees a real HTTP status (ws's verifyClient only says 401).
 * The connection caps (503, 429) are `ConnectionSlots`', shared with SSE streams.
 */
export function checkUpgrade(request: IncomingMessage, limits: UpgradeLimits): UpgradeRefusal | null {
  const path = (request.url ?? '/').split('?')[0];
  if (path !== limits.path) return { status: 404, reason: 'Not Found' };
  const origin = request.headers.origin;
  if (limits.allowedOrigins.length > 0 && (!origin || !limits.allowedOrigins.includes(origin))) {
    return { status: 403, reason: 'Forbidden' };
  }
  return null;
}

/**
 * Node removed its own 'error' listener before emitting 'upgrade' (pitfalls §22): the caller has added one. A peer
 * that already reset gets nothing written (a write to it would only fail); otherwise the status line is written and
 * the socket destroyed once it is flushed, so a peer that never closes its side does not hold it open.
 */
export function refuseUpgrade(socket: Duplex, { status, reason, retryAfterSeconds }: UpgradeRefusal): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${reason}\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      (retryAfterSeconds !== undefined ? `Retry-After: ${retryAfterSeconds}\r\n` : status === 503 ? 'Retry-After: 5\r\n' : '') +
      `\r\n${body}`,
  );
}
