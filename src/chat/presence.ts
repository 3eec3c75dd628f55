import type { Logger } from './logger.ts';
import type { PresenceStore, RoomEventBus } from './ports/index.ts';
import type { Presence, User } from './types.ts';

export interface PresenceServiceOptions {
  store: PresenceStore;
  bus: RoomEventBus;
  logger: Logger;
}

/** Turns connection counts into MemberJoined / MemberLeft, once per transition for the whole cluster. */
export function createPresenceService({ store, bus, logger }: PresenceServiceOptions) {
  const publishLeft = (roomId: string, user: User) =>
    bus.publish({ kind: 'left', roomId, user, at: new Date().toISOString() });

  store.onExpired((roomId, user) => {
    publishLeft(roomId, user).catch((error: unknown) =>
      logger.warn({ roomId, userId: user.id, err: error }, 'MemberLeft for an expired connection not published'),
    );
  });
  store.onRejoined((roomId, user, at) => {
    bus.publish({ kind: 'joined', roomId, user, at }).catch((error: unknown) =>
      logger.warn({ roomId, userId: user.id, err: error }, 'MemberJoined for a re-registered connection not published'),
    );
  });

  return {
    async join(roomId: string, user: User, connectionId: string): Promise<void> {
      const at = new Date().toISOString();
      const { first } = await store.join(roomId, user, connectionId, at);
      if (first) await bus.publish({ kind: 'joined', roomId, user, at });
    },

    async leave(roomId: string, user: User, connectionId: string): Promise<void> {
      const { last } = await store.leave(roomId, user.id, connectionId);
      if (last) await publishLeft(roomId, user);
    },

    online(roomId: string): Promise<Presence[]> {
      return store.list(roomId);
    },
  };
}

export type PresenceService = ReturnType<typeof createPresenceService>;
