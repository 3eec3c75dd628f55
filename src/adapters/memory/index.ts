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
  /** createRoom per user per minute. @default 30 */
  roomRate?: number;
  /** setTyping per user per second. @default 5 */
  typingRate?: number;
}

export function createMemoryAdapters(options: MemoryAdapterOptions): ChatAdapters {
  const { roomRate = 30, typingRate = 5 } = options;
  const bus = createMemoryEventBus(options.logger);
  const presence = createMemoryPresenceStore(bus);
  const rooms = createMemoryRoomStore();
  const messageRate = createMemoryRateLimiter({ ratePerSecond: options.messageRate, burst: options.messageBurst });
  return {
    bus,
    messages: createMemoryMessageStore({ bus, rooms, limiter: messageRate, historyLimit: options.historyLimit }),
    rooms,
    presence,
    messageRate,
    roomRate: createMemoryRateLimiter({ ratePerSecond: roomRate / 60, burst: roomRate }),
    typingRate: createMemoryRateLimiter({ ratePerSecond: typingRate, burst: typingRate }),
    ping: async () => true,
    async close() {
      await presence.close();
      await bus.close();
    },
  };
}
