import type { RateLimiter } from '../../chat/ports/index.ts';

export interface TokenBucketOptions {
  /** Tokens added per second. */
  ratePerSecond: number;
  /** Bucket size: the burst allowed after a quiet spell. */
  burst: number;
  now?: () => number;
}

export interface MemoryRateLimiter extends RateLimiter {
  /** `take` without a promise, for a caller that must check and act in one synchronous step (the message store). */
  takeNow(key: string): boolean;
}

export function createMemoryRateLimiter({ ratePerSecond, burst, now = Date.now }: TokenBucketOptions): MemoryRateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  let sweepAt = now();
  const takeNow = (key: string): boolean => {
    const time = now();
    // Full buckets carry no information: dropping them keeps memory flat with many users.
    if (time - sweepAt > 60_000) {
      sweepAt = time;
      for (const [k, b] of buckets) if (b.tokens + ((time - b.at) / 1000) * ratePerSecond >= burst) buckets.delete(k);
    }
    let bucket = buckets.get(key);
    if (!bucket) buckets.set(key, (bucket = { tokens: burst, at: time }));
    bucket.tokens = Math.min(burst, bucket.tokens + ((time - bucket.at) / 1000) * ratePerSecond);
    bucket.at = time;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  };
  return {
    takeNow,
    take: async (key) => takeNow(key),
  };
}
