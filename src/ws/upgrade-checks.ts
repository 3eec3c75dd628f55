import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

export interface UpgradeLimits {
  path: string;
  allowedOrigins: readonly string[];
  maxConnections: number;
}

export type UpgradeRefusal = { status: 403 | 404 | 429 | 503; reason: string; retryAfterSeconds?: number };

/** Decided before the protocol switch, so a refused client sees a real HTTP status (ws's verifyClient only says 401). */
export function checkUpgrade(request: IncomingMessage, limits: UpgradeLimits, openConnections: number): UpgradeRefusal | null {
  const path = (request.url ?? '/').split('?')[0];
  if (path !== limits.path) return { status: 404, reason: 'Not Found' };
  const origin = request.headers.origin;
  if (limits.allowedOrigins.length > 0 && (!origin || !limits.allowedOrigins.includes(origin))) {
    return { status: 403, reason: 'Forbidden' };
  }
  if (openConnections >= limits.maxConnections) return { status: 503, reason: 'Service Unavailable' };
  return null;
}

export function refuseUpgrade(socket: Duplex, { status, reason, retryAfterSeconds }: UpgradeRefusal): void {
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      (retryAfterSeconds !== undefined ? `Retry-After: ${retryAfterSeconds}\r\n` : status === 503 ? 'Retry-After: 5\r\n' : '') +
      `\r\n${body}`,
  );
}
