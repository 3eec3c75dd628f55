import type { Logger } from './logger.ts';
import type { UserEventBus } from './ports/index.ts';
import type { UserEvent } from './types.ts';

/** A local userEvents subscriber. */
export interface UserEventSink {
  deliver(event: UserEvent): void;
}

export interface UserHubsOptions {
  bus: UserEventBus;
  logger: Logger;
}

interface Hub {
  userId: string;
  sinks: Set<UserEventSink>;
  ready: Promise<void>;
  unsubscribe: (() => Promise<void>) | null;
}

/** The broadcast subscription: one per instance while any user has a userEvents subscription open here. */
interface Everyone {
  ready: Promise<void>;
  unsubscribe: (() => Promise<void>) | null;
}

/**
 * One bus subscription per user with a userEvents subscription open on this instance (like rooms: an instance
 * listens only for the users it serves, and a user with none costs nothing), plus one broadcast subscription for
 * public rooms, which this instance hands to each local user but the room's creator. Every sink of a user gets
 * the same event object.
 */
export function createUserHubs({ bus, logger }: UserHubsOptions) {
  const hubs = new Map<string, Hub>();
  let everyone: Everyone | null = null;

  const dispatch = (hub: Hub, event: UserEvent) => {
    for (const sink of hub.sinks) {
      try {
        sink.deliver(event);
      } catch (error) {
        logger.error({ userId: hub.userId, err: error }, 'a userEvents subscriber failed to take an event');
      }
    }
  };

  /** Anyone with Redis access can publish: what a user channel carries is checked against its user once more. */
  const isFor = (userId: string, event: UserEvent): boolean =>
    event.kind === 'roomAvailable'
      ? event.room.createdBy !== userId && (!event.room.private || event.room.members.includes(userId))
      : event.message.author.id !== userId;

  function onBroadcast(self: Everyone, event: UserEvent) {
    // A subscription on its way out while the next one comes up would otherwise deliver twice.
    if (everyone !== self) return;
    if (event.kind !== 'roomAvailable' || event.room.private) {
      logger.warn({ kind: event.kind }, 'dropped a broadcast user event that is not a public room');
      return;
    }
    for (const hub of hubs.values()) if (hub.userId !== event.room.createdBy) dispatch(hub, event);
  }

  function openEveryone(): Everyone {
    const self: Everyone = { ready: Promise.resolve(), unsubscribe: null };
    self.ready = (async () => {
      try {
        self.unsubscribe = await bus.subscribeToAll({ onEvent: (event) => onBroadcast(self, event) });
      } catch (error) {
        if (everyone === self) everyone = null;
        throw error;
      }
    })();
    return self;
  }

  function openHub(userId: string): Hub {
    const hub: Hub = { userId, sinks: new Set(), ready: Promise.resolve(), unsubscribe: null };
    hub.ready = (async () => {
      try {
        hub.unsubscribe = await bus.subscribeToUser(userId, {
          onEvent: (event) => {
            if (isFor(userId, event)) dispatch(hub, event);
            else logger.warn({ userId, kind: event.kind }, 'dropped a user event not meant for its channel user');
          },
        });
      } catch (error) {
        if (hubs.get(userId) === hub) hubs.delete(userId);
        throw error;
      }
    })();
    return hub;
  }

  const release = (what: string, ready: Promise<void>, unsubscribe: () => (() => Promise<void>) | null) =>
    void ready.then(async () => unsubscribe()?.()).catch((error: unknown) => logger.warn({ err: error }, `${what} unsubscribe failed`));

  return {
    /** Adds a sink for `userId`, opening the user's (and the broadcast) subscription if needed; resolves once live. */
    async attach(userId: string, sink: UserEventSink): Promise<void> {
      let hub = hubs.get(userId);
      if (!hub) hubs.set(userId, (hub = openHub(userId)));
      everyone ??= openEveryone();
      hub.sinks.add(sink);
      try {
        await Promise.all([hub.ready, everyone.ready]);
      } catch (error) {
        this.detach(userId, sink);
        throw error;
      }
    },

    /** Removes a sink; the user's last one closes the user's subscription, the instance's last the broadcast one. */
    detach(userId: string, sink: UserEventSink): void {
      const hub = hubs.get(userId);
      if (!hub || !hub.sinks.delete(sink) || hub.sinks.size > 0) return;
      hubs.delete(userId);
      release('user channel', hub.ready, () => hub.unsubscribe);
      if (hubs.size > 0 || !everyone) return;
      const last = everyone;
      everyone = null;
      release('broadcast channel', last.ready, () => last.unsubscribe);
    },

    /** Users with at least one local userEvents subscriber. */
    get size() {
      return hubs.size;
    },
  };
}

export type UserHubs = ReturnType<typeof createUserHubs>;
