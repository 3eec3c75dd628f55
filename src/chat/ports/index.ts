export type { RoomEventBus, RoomEventListener } from './room-event-bus.ts';
export type { MessageStore, AppendMessageInput, AppendResult } from './message-store.ts';
export type { RoomPage, RoomStore } from './room-store.ts';
export type { PresenceStore } from './presence-store.ts';
export type { RateLimiter } from './rate-limiter.ts';
export type { UserEventBus, UserEventListener } from './user-event-bus.ts';

import type { MessageStore } from './message-store.ts';
import type { PresenceStore } from './presence-store.ts';
import type { RateLimiter } from './rate-limiter.ts';
import type { RoomEventBus } from './room-event-bus.ts';
import type { RoomStore } from './room-store.ts';
import type { UserEventBus } from './user-event-bus.ts';

/** One implementation of every port, chosen together in `adapters/index.ts`. */
export interface ChatAdapters {
  bus: RoomEventBus;
  /** Per-user events (userEvents), cluster-wide. */
  userBus: UserEventBus;
  messages: MessageStore;
  rooms: RoomStore;
  presence: PresenceStore;
  /** sendMessage, per user: MESSAGE_RATE. */
  messageRate: RateLimiter;
  /** createRoom, per user: ROOM_RATE a minute. */
  roomRate: RateLimiter;
  /** setTyping, per user: TYPING_RATE a second. */
  typingRate: RateLimiter;
  /** Answers whether every backing service is reachable (`/ready`). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
