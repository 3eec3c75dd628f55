import type { UpgradeRefusal } from './upgrade-checks.ts';

export interface ConnectionSlotLimits {
  /** MAX_CONNECTIONS: past it, HTTP 503. */
  maxConnections: number;
  /** MAX_CONNECTIONS_PER_ADDRESS: past it, HTTP 429. */
  maxConnectionsPerAddress: number;
}

const FULL: UpgradeRefusal = { status: 503, reason: 'Service Unavailable' };
const TOO_MANY_FROM_ADDRESS: UpgradeRefusal = { status: 429, reason: 'Too Many Requests', retryAfterSeconds: 5 };

/**
 * Every long-lived connection of this instance, WebSockets and SSE streams alike, in total and per client address:
 * the one place that admits them (pitfalls §14), so no transport can escape either cap. A slot is taken in the same
 * tick as the check that admitted it, so concurrent requests cannot overshoot. An address's entry is deleted when
 * its count falls to zero: the map never holds more entries than open connections.
 */
export class ConnectionSlots {
  readonly #perAddress = new Map<string, number>();
  #total = 0;

  constructor(readonly limits: ConnectionSlotLimits) {}

  /** Why `address` may not open one more connection now, or null when it may. */
  refusal(address: string): UpgradeRefusal | null {
    if (this.#total >= this.limits.maxConnections) return FULL;
    if ((this.#perAddress.get(address) ?? 0) >= this.limits.maxConnectionsPerAddress) return TOO_MANY_FROM_ADDRESS;
    return null;
  }

  take(address: string): void {
    this.#total += 1;
    this.#perAddress.set(address, (this.#perAddress.get(address) ?? 0) + 1);
  }

  release(address: string): void {
    const held = this.#perAddress.get(address);
    if (held === undefined) return;
    this.#total -= 1;
    if (held <= 1) this.#perAddress.delete(address);
    else this.#perAddress.set(address, held - 1);
  }

  get total(): number {
    return this.#total;
  }

  /** Addresses holding at least one slot (for tests and diagnostics). */
  get addresses(): number {
    return this.#perAddress.size;
  }
}
