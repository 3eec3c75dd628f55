import type { ChatCounters } from './counters.ts';
import type { Logger } from './logger.ts';
import type { MessageStore, RoomEventBus } from './ports/index.ts';
import type { RoomEvent } from './types.ts';

export type HubSink = (event: RoomEvent) => void;

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

export interface Attachment {
  /** Seq of the newest message the hub had seen when the sink went live: replay must reach at least this. */
  readonly liveFromSeq: number;
  detach(): void;
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
    /** Each sink with what to tell it when the room's history cannot be read. */
    sinks: Map<HubSink, (error: unknown) => void>;
    ready: Promise<void>;
    lastSeq: number;
    backlog: Array<RoomEvent | 'gap'>;
    draining: boolean;
    unsubscribe: (() => Promise<void>) | null;
  }

  const dispatch = (hub: Hub, event: RoomEvent) => {
    if (event.kind === 'message') counters.messagesOut += hub.sinks.size;
    for (const sink of hub.sinks.keys()) sink(event);
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

  /** Handles what can be handled synchronously; hands off to `drain` only when history must be read. */
  function accept(hub: Hub, item: RoomEvent | 'gap') {
    if (hub.draining) {
      hub.backlog.push(item);
      return;
    }
    if (item !== 'gap') {
      if (item.kind !== 'message') return dispatch(hub, item);
      const { seq } = item.message;
      if (seq <= hub.lastSeq) return;
      if (seq === hub.lastSeq + 1) {
        hub.lastSeq = seq;
        return dispatch(hub, item);
      }
    }
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
        } else if (item.kind !== 'message') {
          dispatch(hub, item);
        } else if (item.message.seq > hub.lastSeq) {
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
      for (const fail of [...hub.sinks.values()]) fail(error);
    } finally {
      hub.draining = false;
    }
  }

  function open(roomId: string): Hub {
    const hub: Hub = {
      roomId,
      sinks: new Map(),
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
    /**
     * Adds a sink to the room's hub, opening it if needed; resolves once the sink is live.
     * `onFailure` is told when the room's history cannot be read to fill a gap.
     */
    async attach(roomId: string, sink: HubSink, onFailure: (error: unknown) => void): Promise<Attachment> {
      let current = hubs.get(roomId);
      if (!current) {
        current = open(roomId);
        hubs.set(roomId, current);
      }
      const hub = current;
      hub.sinks.set(sink, onFailure);
      const detach = () => {
        hub.sinks.delete(sink);
        if (hub.sinks.size === 0 && hubs.get(roomId) === hub) {
          hubs.delete(roomId);
          void hub.ready
            .then(() => hub.unsubscribe?.())
            .catch((error: unknown) => logger.warn({ roomId, err: error }, 'room unsubscribe failed'));
        }
      };
      try {
        await hub.ready;
      } catch (error) {
        detach();
        throw error;
      }
      return { liveFromSeq: hub.lastSeq, detach };
    },
    /** Rooms with at least one local subscriber. */
    get size() {
      return hubs.size;
    },
  };
}

export type RoomHubs = ReturnType<typeof createRoomHubs>;
