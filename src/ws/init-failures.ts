export interface InitFailureLimiterOptions {
  /** Failures an address may have within one window before its upgrades are refused. */
  maxFailures: number;
  windowMs: number;
  /** Addresses tracked at once; past it the oldest window is forgotten, so a spray of addresses cannot grow memory. @default 100_000 */
  maxAddresses?: number;
}

/**
 * Failed `connection_init` attempts per remote address, in fixed windows.
 *
 * Why refuse at the upgrade (HTTP 429) rather than close 4403 before verifying: a client stuck on a stale token
 * reconnects in a loop (graphql-ws clients retry 4403, pitfalls §13), and each round costs us a TCP accept, an
 * upgrade, a socket, a registry entry and a signature check (or a JWKS fetch). Refusing before the switch costs a
 * status line, no socket is opened and no key is touched; the graphql-ws client treats the failed upgrade like any
 * failed connect and backs off. Answering 4403 without verifying would instead wrongly refuse that address's
 * next, good token. Sockets already open are never touched: the limit only applies to new upgrades.
 *
 * The key is the TCP peer address; behind a proxy every client shares it, so size INIT_FAILURES_PER_ADDRESS for
 * the proxy (or terminate abusive addresses at the proxy). X-Forwarded-For is not trusted: any client can set it.
 */
export function createInitFailureLimiter({ maxFailures, windowMs, maxAddresses = 100_000 }: InitFailureLimiterOptions) {
  // Insertion order is window-start order, so the first entries are the oldest: eviction is O(1).
  const windows = new Map<string, { start: number; failures: number }>();

  const current = (address: string, now: number) => {
    const entry = windows.get(address);
    if (entry && now - entry.start < windowMs) return entry;
    if (entry) windows.delete(address);
    return undefined;
  };

  return {
    /** Milliseconds until `address` may upgrade again, or 0 when it may now. */
    blockedFor(address: string, now = Date.now()): number {
      const entry = current(address, now);
      return entry && entry.failures >= maxFailures ? entry.start + windowMs - now : 0;
    },
    recordFailure(address: string, now = Date.now()): void {
      const entry = current(address, now);
      if (entry) {
        entry.failures += 1;
        return;
      }
      if (windows.size >= maxAddresses) {
        const oldest = windows.keys().next();
        if (!oldest.done) windows.delete(oldest.value);
      }
      windows.set(address, { start: now, failures: 1 });
    },
    /** Drops finished windows; called from the heartbeat sweep so idle addresses do not linger. */
    sweep(now = Date.now()): void {
      for (const [address, entry] of windows) {
        if (now - entry.start < windowMs) break;
        windows.delete(address);
      }
    },
    get size() {
      return windows.size;
    },
  };
}

export type InitFailureLimiter = ReturnType<typeof createInitFailureLimiter>;
