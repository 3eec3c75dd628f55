import type { Logger } from '../chat/logger.ts';
import type { ChatAdapters } from '../chat/ports/index.ts';
import type { Config } from '../config.ts';
import { createMemoryAdapters } from './memory/index.ts';

/** The one place that asks "is there a REDIS_URL?". */
export async function createAdapters(config: Config, logger: Logger): Promise<ChatAdapters> {
  const common = {
    logger,
    historyLimit: config.historyLimit,
    messageRate: config.limits.messageRate,
    messageBurst: config.limits.messageBurst,
  };
  if (config.redisUrl) {
    const { createRedisAdapters } = await import('./redis/index.ts');
    return createRedisAdapters({
      ...common,
      url: config.redisUrl,
      prefix: config.redisPrefix,
      presenceTtlMs: config.presenceTtlMs,
    });
  }
  return createMemoryAdapters(common);
}
