import type { IncomingMessage } from 'node:http';

/**
 * The one answer to "who is this client?", used for MAX_CONNECTIONS_PER_ADDRESS and the failed-init lock-out, on
 * every transport. Without a trusted proxy it is the TCP peer: anyone can write X-Forwarded-For. With `trustProxy`
 * hops (TRUST_PROXY), each trusted proxy appends the address it saw, so the client is the entry `trustProxy` places
 * from the right: what a client wrote to the left of it is ignored. Too few entries (a request that did not come
 * through every hop) falls back to the leftmost entry, then to the TCP peer.
 */
export function clientAddress(request: IncomingMessage, trustProxy: number): string {
  const peer = request.socket.remoteAddress ?? 'unknown';
  if (trustProxy <= 0) return peer;
  const header = request.headers['x-forwarded-for'];
  if (!header) return peer;
  // Node joins repeated X-Forwarded-For headers with ", ", in arrival order.
  const hops = (Array.isArray(header) ? header.join(',') : header).split(',');
  const entry = hops[Math.max(0, hops.length - trustProxy)]?.trim();
  // Bounded like any key from client input: a proxy never forwards more than an address here.
  return entry ? entry.slice(0, 64) : peer;
}
