/** The timer functions the refresh schedule runs on; a test passes a fake clock. */
export interface RefreshClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: RefreshClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Longest delay a timer can hold: a longer one fires at once in browsers and Node (pitfalls §18). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Expiry of a JWT in ms since the epoch, read from its payload without verifying it (the server verifies; the
 * client only needs to know when to ask for a new one). Undefined when the token has no readable `exp`.
 */
export function tokenExpiry(token: string): number | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const base64 = part
      .replace(/-/g, '+')
      .replace(/_/g, '/')
      .padEnd(Math.ceil(part.length / 4) * 4, '=');
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const { exp } = JSON.parse(new TextDecoder().decode(bytes)) as { exp?: unknown };
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1_000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How long to wait before refreshing a token that expires at `expiresAtMs`: half its remaining life, but no later
 * than `maxLeadMs` before expiry. Half the life keeps short-lived tokens (seconds) far from the edge, and still
 * leaves room for a token the app's `getToken` minted a moment before or after the one the socket was opened with
 * (`exp` has a one-second resolution); the cap keeps a long-lived token from being refreshed hours early.
 */
export function refreshDelay(expiresAtMs: number, nowMs: number, maxLeadMs = 60_000): number {
  const remaining = expiresAtMs - nowMs;
  if (remaining <= 0) return 0;
  return Math.max(remaining / 2, remaining - maxLeadMs);
}

/** Below this, a refresh that did not extend the deadline is not retried: the socket closes 4403 and reconnects. */
export const MIN_RETRY_MS = 1_000;

/** One pending refresh at a time, re-armed in steps when the delay exceeds what a timer can hold. */
export function createRefreshTimer(clock: RefreshClock, refresh: () => void) {
  let handle: unknown;
  const cancel = () => {
    if (handle !== undefined) clock.clearTimeout(handle);
    handle = undefined;
  };
  return {
    /** Refreshes before `expiresAtMs` (see `refreshDelay`); replaces any pending refresh. */
    schedule(expiresAtMs: number, maxLeadMs?: number) {
      cancel();
      const due = clock.now() + refreshDelay(expiresAtMs, clock.now(), maxLeadMs);
      const arm = () => {
        const delay = due - clock.now();
        if (delay > MAX_TIMER_MS) {
          handle = clock.setTimeout(arm, MAX_TIMER_MS);
          return;
        }
        handle = clock.setTimeout(
          () => {
            handle = undefined;
            refresh();
          },
          Math.max(0, delay),
        );
      };
      arm();
    },
    cancel,
  };
}
