import type { Logger } from '../../chat/logger.ts';
import type { ChatAdapters } from '../../chat/ports/index.ts';
import { createMemoryEventBus } from './event-bus.ts';
import { createMemoryMessageStore } from './message-store.ts';
import { createMemoryPresenceStore } from './presence-store.ts';
import { createMemoryRateLimiter } from './rate-limiter.ts';
import { createMemoryRoomStore } from './room-store.ts';

export interface MemoryAdapterOptions {
  logger: Logger;
  historyLimit: number;
  messageRate: number;
  messageBurst: number;
}

export function createMemoryAdapters(options: MemoryAdapterOptions): ChatAdapters {
  const bus = createMemoryEventBus(options.logger);
  const presence = createMemoryPresenceStore(bus);
  return {
    bus,
    messages: createMemoryMessageStore(bus, options.historyLimit),
    rooms: createMemoryRoomStore(),
    presence,
    messageRate: createMemoryRateLimiter({ ratePerSecond: options.messageRate, burst: options.messageBurst }),
    ping: async () => true,
    async close() {
      await presence.close();
      await bus.close();
    },
  };
}
