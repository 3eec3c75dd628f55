import { createChatCounters, type RoomActivityObserver } from './counters.ts';
import type { Logger } from './logger.ts';
import { createMessageService } from './messages.ts';
import type { ChatAdapters } from './ports/index.ts';
import { createPresenceService } from './presence.ts';
import { createRoomEventService } from './room-events.ts';
import { createRoomHubs } from './room-hubs.ts';
import { createRoomService } from './rooms.ts';
import { createTypingService } from './typing.ts';
import { createUserEventService } from './user-events.ts';
import { createUserHubs } from './user-hubs.ts';

export interface ChatOptions {
  adapters: ChatAdapters;
  logger: Logger;
  /** @default 5_000 */
  typingTtlMs?: number;
  /** Concurrent `after` replays per user on this instance (MAX_REPLAYS_PER_USER). @default 4 */
  maxReplaysPerUser?: number;
  /** Per-room activity on this instance, for the dashboard. @default no-op */
  activity?: RoomActivityObserver;
  /** Events queued per userEvents subscriber before the oldest is dropped (USER_EVENT_QUEUE). @default 100 */
  userEventQueue?: number;
}

/** The domain, wired over one set of adapters. */
export function createChat({ adapters, logger, typingTtlMs, maxReplaysPerUser, activity, userEventQueue }: ChatOptions) {
  const counters = createChatCounters();
  const userHubs = createUserHubs({ bus: adapters.userBus, logger });
  const userEvents = createUserEventService({
    bus: adapters.userBus,
    hubs: userHubs,
    rooms: adapters.rooms,
    logger,
    ...(userEventQueue ? { queueSize: userEventQueue } : {}),
  });
  const rooms = createRoomService({ store: adapters.rooms, limiter: adapters.roomRate, onCreated: (room) => userEvents.roomCreated(room) });
  const typing = createTypingService({
    bus: adapters.bus,
    rooms,
    limiter: adapters.typingRate,
    logger,
    ...(typingTtlMs ? { ttlMs: typingTtlMs } : {}),
  });
  const messages = createMessageService({
    store: adapters.messages,
    typing,
    counters,
    ...(activity ? { activity } : {}),
    onStored: (roomId, message) => userEvents.messageStored(roomId, message),
  });
  const presence = createPresenceService({ store: adapters.presence, logger, ...(activity ? { activity } : {}) });
  const hubs = createRoomHubs({ bus: adapters.bus, store: adapters.messages, logger, counters });
  const roomEvents = createRoomEventService({
    rooms,
    store: adapters.messages,
    hubs,
    presence,
    logger,
    ...(maxReplaysPerUser ? { maxReplaysPerUser } : {}),
  });

  return {
    rooms,
    messages,
    typing,
    presence,
    roomEvents,
    userEvents,
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
