import type { ChatCounters } from './counters.ts';
import type { Logger } from './logger.ts';
import type { MessageStore, RoomEventBus } from './ports/index.ts';
import type { RoomEvent } from './types.ts';

import { ChatError } from './errors.ts';

/** A local subscriber of a room: an object with methods, not closures, since there is one per subscription. */
export interface HubSink {
  deliver(event: RoomEvent): void;
  /** The room's history could not be read to fill a gap: the subscriber must resubscribe with `after`. */
  fail(error: Error): void;
}

export interface RoomHubsOptions {
  bus: RoomEventBus;
  store: MessageStore;
  logger: Logger;
  counters: ChatCounters;
  /** Messages read per history page when a gap is filled. @default 500 */
  pageSize?: number;
  /** Gap-fill attempts (a second apart) before the room's local subscribers are failed. @default 5 */
  fillAttempts?: number;
}

/**
 * One local fan-out point per room on this instance: a single bus subscription whatever the number of
 * subscribers, messages passed on strictly in sequence order, and gaps (a lost publish, a reconnect)
 * filled from the message store before anything newer is passed on. Every sink receives the same event
 * object, which is what lets the GraphQL layer execute and serialize once per event.
 */
export function createRoomHubs({ bus, store, logger, counters, pageSize = 500, fillAttempts = 5 }: RoomHubsOptions) {
  const hubs = new Map<string, Hub>();

  interface Hub {
    roomId: string;
    sinks: Set<HubSink>;
    ready: Promise<void>;
    lastSeq: number;
    backlog: Array<RoomEvent | 'gap'>;
    draining: boolean;
    unsubscribe: (() => Promise<void>) | null;
  }

  const dispatch = (hub: Hub, event: RoomEvent) => {
    if (event.kind === 'message') counters.messagesOut += hub.sinks.size;
    for (const sink of hub.sinks) {
      // One subscriber's failure must not cost the others this event.
      try {
        sink.deliver(event);
      } catch (error) {
        logger.error({ roomId: hub.roomId, err: error }, 'a subscriber failed to take an event; ending it');
        sink.fail(error instanceof Error ? error : new Error(String(error)));
      }
    }
  };

  async function fill(hub: Hub, upToExclusive: number) {
    for (let attempt = 1; ; attempt++) {
      try {
        while (hub.lastSeq + 1 < upToExclusive) {
          const page = await store.after(hub.roomId, hub.lastSeq, Math.min(pageSize, upToExclusive - hub.lastSeq - 1));
          if (page.length === 0) return;
          for (const message of page) {
            if (message.seq <= hub.lastSeq) continue;
            hub.lastSeq = message.seq;
            dispatch(hub, { kind: 'message', roomId: hub.roomId, message });
          }
        }
        return;
      } catch (error) {
        if (attempt >= fillAttempts) throw error;
        logger.warn({ roomId: hub.roomId, attempt, err: error }, 'gap fill failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 1_000).unref());
      }
    }
  }

  /**
   * Passes on what needs no history: anything but a message, or the next message in order (a message already
   * passed on is dropped). False when history must be read first.
   */
  function passOn(hub: Hub, item: RoomEvent): boolean {
    if (item.kind !== 'message') {
      dispatch(hub, item);
      return true;
    }
    const { seq } = item.message;
    if (seq <= hub.lastSeq) return true;
    if (seq !== hub.lastSeq + 1) return false;
    hub.lastSeq = seq;
    dispatch(hub, item);
    return true;
  }

  /** Handles what can be handled synchronously; hands off to `drain` only when history must be read. */
  function accept(hub: Hub, item: RoomEvent | 'gap') {
    if (hub.draining) {
      hub.backlog.push(item);
      return;
    }
    if (item !== 'gap' && passOn(hub, item)) return;
    hub.backlog.push(item);
    void drain(hub);
  }

  async function drain(hub: Hub) {
    hub.draining = true;
    try {
      while (hub.backlog.length > 0) {
        const item = hub.backlog.shift() as RoomEvent | 'gap';
        if (item === 'gap') {
          await fill(hub, Number.MAX_SAFE_INTEGER);
        } else if (!passOn(hub, item) && item.kind === 'message') {
          // Read through the message itself and pass on the stored copy: history is the authority. A message
          // that history does not hold (a well-formed but forged PUBLISH on the room channel) would otherwise
          // move lastSeq past every real message to come and silence the room.
          await fill(hub, item.message.seq + 1);
          if (hub.lastSeq < item.message.seq) {
            logger.warn({ roomId: hub.roomId, seq: item.message.seq }, 'dropped a published message that history does not hold');
          }
        }
      }
    } catch (error) {
      logger.error({ roomId: hub.roomId, err: error }, 'could not fill a gap in room history; ending its subscriptions');
      hub.backlog.length = 0;
      const failure = new ChatError('UNAVAILABLE', 'room history is unreachable; resubscribe with `after`', { cause: error });
      for (const sink of [...hub.sinks]) sink.fail(failure);
    } finally {
      hub.draining = false;
    }
  }

  function open(roomId: string): Hub {
    const hub: Hub = {
      roomId,
      sinks: new Set(),
      lastSeq: 0,
      backlog: [],
      // Until the starting seq is known every event waits in the backlog.
      draining: true,
      unsubscribe: null,
      ready: Promise.resolve(),
    };
    hub.ready = (async () => {
      try {
        // Subscribe first, then read where history stands: the other order loses what is sent in between.
        hub.unsubscribe = await bus.subscribe(roomId, {
          onEvent: (event) => accept(hub, event),
          onPossibleGap: () => accept(hub, 'gap'),
        });
        hub.lastSeq = await store.lastSeq(roomId);
      } catch (error) {
        hubs.delete(roomId);
        void hub.unsubscribe?.();
        throw error;
      }
      hub.draining = false;
      if (hub.backlog.length > 0) void drain(hub);
    })();
    return hub;
  }

  return {
    /** Adds a sink to the room's hub, opening the hub if needed; resolves once the sink is live. */
    async attach(roomId: string, sink: HubSink): Promise<void> {
      let hub = hubs.get(roomId);
      if (!hub) {
        hub = open(roomId);
        hubs.set(roomId, hub);
      }
      hub.sinks.add(sink);
      try {
        await hub.ready;
      } catch (error) {
        this.detach(roomId, sink);
        throw error;
      }
    },

    /** Removes a sink; the last one out closes the room's bus subscription. */
    detach(roomId: string, sink: HubSink): void {
      const hub = hubs.get(roomId);
      if (!hub || !hub.sinks.delete(sink) || hub.sinks.size > 0) return;
      hubs.delete(roomId);
      void hub.ready
        .then(() => hub.unsubscribe?.())
        .catch((error: unknown) => logger.warn({ roomId, err: error }, 'room unsubscribe failed'));
    },

    /** Rooms with at least one local subscriber. */
    get size() {
      return hubs.size;
    },
  };
}

export type RoomHubs = ReturnType<typeof createRoomHubs>;
