import type { Logger } from '../chat/logger.ts';
import type { ChatAdapters } from '../chat/ports/index.ts';
import type { Config } from '../config.ts';
import type { DocumentAdapters } from '../documents/ports/index.ts';
import { createLocalInstanceDirectory, type InstanceDirectory } from '../observability/instance-directory.ts';
import { createMemoryAdapters } from './memory/index.ts';

/** The chat and document ports plus the instance directory behind cluster-wide serverStats, chosen together. */
export interface Adapters extends ChatAdapters, DocumentAdapters {
  instances: InstanceDirectory;
}

/** The one place that asks "is there a REDIS_URL?". */
export async function createAdapters(config: Config, logger: Logger): Promise<Adapters> {
  const common = {
    logger,
    historyLimit: config.historyLimit,
    messageRate: config.limits.messageRate,
    messageBurst: config.limits.messageBurst,
    roomRate: config.limits.roomRate,
    typingRate: config.limits.typingRate,
    editRate: config.limits.editRate,
    editBurst: config.limits.editBurst,
    cursorRate: config.limits.cursorRate,
    docHistoryLimit: config.docHistoryLimit,
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
  return { ...createMemoryAdapters(common), instances: createLocalInstanceDirectory() };
}
