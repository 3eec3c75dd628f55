import type { Redis } from 'ioredis';
import type { RateLimiter } from '../../chat/ports/index.ts';
import { orUnavailable } from './errors.ts';
import type { Keys } from './keys.ts';
import { loadLuaScript } from './scripts.ts';

export interface RedisRateLimiterOptions {
  client: Redis;
  keys: Keys;
  /** Which limit this is (no ':'): buckets of different limits never share a key, whatever the callers' keys. */
  name: string;
  /** Tokens added per second. */
  ratePerSecond: number;
  /** Bucket size: the burst allowed after a quiet spell. */
  burst: number;
}

/** One bucket per key, refilled and taken from in one script so concurrent instances never overspend it. */
export function createRedisRateLimiter({ client, keys, name, ratePerSecond, burst }: RedisRateLimiterOptions): RateLimiter {
  const take = loadLuaScript(client, 'take-token');
  return {
    async take(key) {
      const taken = await orUnavailable('rate limit', () => take.run([keys.rate(name, key)], [ratePerSecond, burst]));
      return taken === 1;
    },
  };
}
