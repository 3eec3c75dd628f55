import { createChatCounters, type RoomActivityObserver } from './counters.ts';
import type { Logger } from './logger.ts';
import { createMessageService } from './messages.ts';
import type { ChatAdapters } from './ports/index.ts';
import { createPresenceService } from './presence.ts';
import { createRoomEventService } from './room-events.ts';
import { createRoomHubs } from './room-hubs.ts';
import { createRoomService } from './rooms.ts';
import { createTypingService } from './typing.ts';

export interface ChatOptions {
  adapters: ChatAdapters;
  logger: Logger;
  /** @default 5_000 */
  typingTtlMs?: number;
  /** Concurrent `after` replays per user on this instance (MAX_REPLAYS_PER_USER). @default 4 */
  maxReplaysPerUser?: number;
  /** Per-room activity on this instance, for the dashboard. @default no-op */
  activity?: RoomActivityObserver;
}

/** The domain, wired over one set of adapters. */
export function createChat({ adapters, logger, typingTtlMs, maxReplaysPerUser, activity }: ChatOptions) {
  const counters = createChatCounters();
  const rooms = createRoomService({ store: adapters.rooms, limiter: adapters.roomRate });
  const typing = createTypingService({ bus: adapters.bus, rooms, limiter: adapters.typingRate, logger, ...(typingTtlMs ? { ttlMs: typingTtlMs } : {}) });
  const messages = createMessageService({ store: adapters.messages, typing, counters, ...(activity ? { activity } : {}) });
  const presence = createPresenceService({ store: adapters.presence, logger, ...(activity ? { activity } : {}) });
  const hubs = createRoomHubs({ bus: adapters.bus, store: adapters.messages, logger, counters });
  const roomEvents = createRoomEventService({ rooms, store: adapters.messages, hubs, presence, logger, ...(maxReplaysPerUser ? { maxReplaysPerUser } : {}) });

  return {
    rooms,
    messages,
    typing,
    presence,
    roomEvents,
    hubs,
    counters,
    ready: async () => adapters.ping(),
    /** Lets ending subscriptions publish their leaves (bounded), then releases the adapters. */
    async close(drainTimeoutMs = 2_000) {
      await roomEvents.drain(drainTimeoutMs);
      typing.close();
      await adapters.close();
    },
  };
}

export type Chat = ReturnType<typeof createChat>;
export { ChatError, isChatError, type ChatErrorCode } from './errors.ts';
export type * from './types.ts';
export type { RoomActivityObserver } from './counters.ts';
