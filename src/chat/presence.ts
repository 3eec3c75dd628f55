import { NO_ROOM_ACTIVITY, type RoomActivityObserver } from './counters.ts';
import type { Logger } from './logger.ts';
import type { PresenceStore } from './ports/index.ts';
import type { Presence, User } from './types.ts';

export interface PresenceServiceOptions {
  store: PresenceStore;
  logger: Logger;
  /** Told of each local subscription counted present and of its end (the dashboard's busiest rooms). @default no-op */
  activity?: RoomActivityObserver;
}

/**
 * Counts a user present in a room while one of their subscriptions is open. The store records each transition
 * and announces it (MemberJoined / MemberLeft) in one step: publishing here, after the store answered, would let
 * a MemberLeft overtake the MemberJoined that followed it on another instance, and a failed publish would leave
 * a recorded connection that nobody knows to release.
 */
export function createPresenceService({ store, logger, activity = NO_ROOM_ACTIVITY }: PresenceServiceOptions) {
  store.onExpired((roomId, user) => logger.info({ roomId, userId: user.id }, 'member of a dead instance reaped; MemberLeft published'));
  store.onRejoined((roomId, user) =>
    logger.info({ roomId, userId: user.id }, 'connection taken for gone was registered again; MemberJoined published'),
  );

  return {
    /** Resolves once the connection is recorded (and announced if first); rejects with nothing recorded. */
    async join(roomId: string, user: User, connectionId: string): Promise<void> {
      await store.join(roomId, user, connectionId, new Date().toISOString());
      activity.memberJoined(roomId, user.id);
    },

    async leave(roomId: string, user: User, connectionId: string): Promise<void> {
      // Gone from this instance whether or not the store hears of it (a dead Redis reaps it later).
      activity.memberLeft(roomId, user.id);
      await store.leave(roomId, user, connectionId, new Date().toISOString());
    },

    async online(roomId: string): Promise<Presence[]> {
      return store.list(roomId);
    },
  };
}

export type PresenceService = ReturnType<typeof createPresenceService>;
