import { onTestFinished } from 'vitest';
import { createMemoryAdapters } from '../../src/adapters/memory/index.ts';
import { createRedisAdapters, type RedisAdapterOptions } from '../../src/adapters/redis/index.ts';
import { silentLogger } from '../../src/chat/logger.ts';
import type { ChatAdapters } from '../../src/chat/ports/index.ts';
import { type RedisServer, startRedisServer, useRedis } from '../utils/redis-server.ts';

export interface NodeOptions {
  historyLimit?: number;
  messageRate?: number;
  messageBurst?: number;
  roomRate?: number;
  typingRate?: number;
}

export interface Backend {
  name: 'memory' | 'redis';
  /**
   * `count` adapter sets forming one cluster (shared storage and fan-out), closed after the test. Memory has
   * one process only, so its "nodes" are the same adapters: a cluster of one seen through several handles.
   */
  cluster(count: number, options?: NodeOptions): Promise<ChatAdapters[]>;
}

// MESSAGE_RATE: nothing refills during a test; the burst is large because `MessageStore.append` spends a token
// per message and tests append thousands as fixtures. Rate tests pass their own.
const defaults = { historyLimit: 100, messageRate: 0.01, messageBurst: 1_000_000 };

/**
 * Starts one redis-server for the file (stopped in afterAll) and returns both backends for `describe.each`.
 * Every Redis cluster gets a fresh key prefix, deleted when its test ends.
 */
export function useBackends(): Backend[] {
  const redisServer = useRedis();
  return [
    {
      name: 'memory',
      async cluster(count, options) {
        const adapters = createMemoryAdapters({ logger: silentLogger, ...defaults, ...options });
        onTestFinished(() => adapters.close());
        return Array.from({ length: count }, () => adapters);
      },
    },
    {
      name: 'redis',
      async cluster(count, options) {
        const running = redisServer();
        const prefix = running.newPrefix();
        const nodes = await redisCluster(running, count, { prefix, ...options });
        onTestFinished(() => running.deleteKeys(prefix));
        return nodes;
      },
    },
  ];
}

/** Redis adapter sets sharing `server` and one prefix, closed after the test (pass or fail). */
export async function redisCluster(
  server: RedisServer,
  count: number,
  options: Partial<RedisAdapterOptions> = {},
): Promise<Awaited<ReturnType<typeof createRedisAdapters>>[]> {
  const prefix = options.prefix ?? server.newPrefix();
  const nodes = await Promise.all(
    Array.from({ length: count }, () =>
      createRedisAdapters({
        logger: silentLogger,
        ...defaults,
        url: server.url,
        prefix,
        presenceTtlMs: 10_000,
        commandTimeoutMs: 1_000,
        ...options,
      }),
    ),
  );
  onTestFinished(async () => {
    server.resume();
    await Promise.all(nodes.map((node) => node.close()));
  });
  return nodes;
}

/** A dedicated redis-server for a test that stops, restarts or freezes it; killed when the test ends. */
export async function privateRedisServer(): Promise<RedisServer> {
  const server = await startRedisServer();
  onTestFinished(() => server.stop());
  return server;
}
