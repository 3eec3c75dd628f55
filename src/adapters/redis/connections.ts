import { Redis } from 'ioredis';
import type { Logger } from '../../chat/logger.ts';

export interface RedisConnectionOptions {
  url: string;
  logger: Logger;
  /** Deadline of every command; a frozen or partitioned Redis answers UNAVAILABLE after it. @default 2_000 */
  commandTimeoutMs?: number;
  /** Upper bound of the reconnect backoff. @default 2_000 */
  maxReconnectDelayMs?: number;
}

export type RedisRole = 'command' | 'subscriber';

/**
 * One ioredis client tuned to fail fast rather than queue: a mutation must learn within `commandTimeoutMs`
 * that Redis is gone, and a command must never run twice behind our back.
 * - `enableOfflineQueue: false`: while disconnected a command rejects at once instead of waiting for a reconnect.
 * - `maxRetriesPerRequest: 0`: commands in flight when the socket drops are rejected on the spot (ioredis
 *   flushes its queue on every reconnect attempt), not parked until a reconnect that may never come.
 * - `autoResendUnfulfilledCommands: false`: an append whose reply was lost is not replayed (that would store twice).
 * - `autoResubscribe: false`: the event target resubscribes itself, so it knows when a gap is possible (pitfalls §3, 5).
 * - `error` is always handled: an outage is logged once per streak, never an "Unhandled error event".
 */
/** 50 ms x 2^attempt (the exponent capped at `maxDoublings`), never above `maxMs`. */
export const backoffMs = (attempt: number, maxDoublings: number, maxMs: number): number =>
  Math.min(50 * 2 ** Math.min(attempt, maxDoublings), maxMs);

export function createRedisConnection(role: RedisRole, options: RedisConnectionOptions): Redis {
  const { url, logger, commandTimeoutMs = 2_000, maxReconnectDelayMs = 2_000 } = options;
  const client = new Redis(url, {
    connectionName: `chat-${role}`,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    commandTimeout: commandTimeoutMs,
    connectTimeout: Math.max(commandTimeoutMs, 1_000),
    retryStrategy: (attempt) => backoffMs(attempt, 8, maxReconnectDelayMs),
  });
  let failing = false;
  client.on('error', (error: unknown) => {
    if (failing) return logger.debug({ role, err: error }, 'redis connection error');
    failing = true;
    logger.warn({ role, err: error }, 'redis connection error; reconnecting');
  });
  client.on('ready', () => {
    if (failing) logger.info({ role }, 'redis connection restored');
    failing = false;
  });
  return client;
}

/** Resolves true once `client` is ready, false after `timeoutMs` (it keeps reconnecting in the background). */
export function waitReady(client: Redis, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    client.on('ready', onReady);
  });
}

/** QUIT when possible, then drop the socket whatever happened, so close() never hangs on a dead Redis. */
export async function closeConnection(client: Redis): Promise<void> {
  if (client.status === 'ready') {
    await client.quit().catch(() => undefined);
  }
  client.disconnect();
}

/** Redis time minus local time, re-measured periodically, so scripts can be given deadlines in Redis's clock. */
export function createRedisClock(client: Redis, logger: Logger, syncEveryMs = 30_000) {
  let offsetMs = 0;
  const sync = async () => {
    try {
      const start = Date.now();
      const [seconds, micros] = await client.time();
      const end = Date.now();
      offsetMs = Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000) - (start + end) / 2;
    } catch (error) {
      logger.debug({ err: error }, 'redis clock sync failed; keeping the last offset');
    }
  };
  const onReady = () => void sync();
  client.on('ready', onReady);
  if (client.status === 'ready') void sync();
  const timer = setInterval(() => void sync(), syncEveryMs).unref();
  return {
    now: () => Date.now() + offsetMs,
    sync,
    stop() {
      clearInterval(timer);
      client.off('ready', onReady);
    },
  };
}

export type RedisClock = ReturnType<typeof createRedisClock>;
