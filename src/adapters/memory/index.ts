import type { Logger } from '../../chat/logger.ts';
import type { ChatAdapters } from '../../chat/ports/index.ts';
import type { DocumentAdapters } from '../../documents/ports/index.ts';
import { createMemoryDocumentEventBus } from './document-event-bus.ts';
import { createMemoryDocumentStore } from './document-store.ts';
import { createMemoryEventBus } from './event-bus.ts';
import { createMemoryMessageStore } from './message-store.ts';
import { createMemoryPresenceStore } from './presence-store.ts';
import { createMemoryRateLimiter } from './rate-limiter.ts';
import { createMemoryRoomStore } from './room-store.ts';
import { createMemoryUserEventBus } from './user-event-bus.ts';

export interface MemoryAdapterOptions {
  logger: Logger;
  historyLimit: number;
  messageRate: number;
  messageBurst: number;
  /** createRoom per user per minute. @default 30 */
  roomRate?: number;
  /** setTyping per user per second. @default 5 */
  typingRate?: number;
  /** editDocument per user per second (bucket refill). @default 20 */
  editRate?: number;
  /** @default 2 x editRate */
  editBurst?: number;
  /** moveCursor per user per second. @default 10 */
  cursorRate?: number;
  /** Edits kept per document. @default 1_000 */
  docHistoryLimit?: number;
}

export function createMemoryAdapters(options: MemoryAdapterOptions): ChatAdapters & DocumentAdapters {
  const { roomRate = 30, typingRate = 5, editRate = 20, editBurst = editRate * 2, cursorRate = 10, docHistoryLimit = 1_000 } = options;
  const bus = createMemoryEventBus(options.logger);
  const presence = createMemoryPresenceStore(bus);
  const documentBus = createMemoryDocumentEventBus(options.logger);
  const rooms = createMemoryRoomStore();
  const messageRate = createMemoryRateLimiter({ ratePerSecond: options.messageRate, burst: options.messageBurst });
  const userBus = createMemoryUserEventBus(options.logger);
  return {
    bus,
    userBus,
    messages: createMemoryMessageStore({ bus, rooms, limiter: messageRate, historyLimit: options.historyLimit }),
    rooms,
    presence,
    messageRate,
    roomRate: createMemoryRateLimiter({ ratePerSecond: roomRate / 60, burst: roomRate }),
    typingRate: createMemoryRateLimiter({ ratePerSecond: typingRate, burst: typingRate }),
    documents: createMemoryDocumentStore(documentBus, docHistoryLimit),
    documentBus,
    editRate: createMemoryRateLimiter({ ratePerSecond: editRate, burst: editBurst }),
    cursorRate: createMemoryRateLimiter({ ratePerSecond: cursorRate, burst: cursorRate }),
    ping: async () => true,
    async close() {
      await presence.close();
      await bus.close();
      await documentBus.close();
      await userBus.close();
    },
  };
}
