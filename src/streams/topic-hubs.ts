/** A possible gap reported by the bus, queued in order with the events. */
const GAP = Symbol('gap');

/** A local subscriber of a topic: an object with methods, not closures, since there is one per subscription. */
export interface TopicSink<E> {
  deliver(event: E): void;
  /** The topic's log could not be read to fill a gap: the subscriber must resubscribe from its cursor. */
  fail(error: Error): void;
}

export interface TopicListener<E> {
  onEvent(event: E): void;
  /** Events may have been missed (the transport reconnected): fill the gap from the log. */
  onPossibleGap(): void;
}

/**
 * What a hub needs of a topic (a room, a document): its live events, and its log of ordered events by sequence
 * number. Events without a sequence number (presence, typing, cursors) are passed on as they come, never stored.
 */
export interface TopicSource<E> {
  /** Resolves once the subscription is confirmed. */
  subscribe(topic: string, listener: TopicListener<E>): Promise<() => Promise<void>>;
  /** The sequence number of the newest logged event (0: none). */
  head(topic: string): Promise<number>;
  /** At most `limit` logged events after `seq`, oldest first; null when the log no longer reaches back to it. */
  after(topic: string, seq: number, limit: number): Promise<E[] | null>;
  /** The event's sequence number in the log, or null for an event that is not logged. */
  seqOf(event: E): number | null;
}

export interface TopicLogger {
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface TopicHubsOptions<E> {
  source: TopicSource<E>;
  logger: TopicLogger;
  /** The error a topic's sinks get when a gap cannot be filled; `tooOld` when the log no longer reaches back. */
  failure(topic: string, cause: unknown, tooOld: boolean): Error;
  /** Called per event passed on, with the number of sinks it went to (counters). */
  onDispatch?(event: E, sinks: number): void;
  /** Logged events read per page when a gap is filled. @default 500 */
  pageSize?: number;
  /** Gap-fill attempts (a second apart) before the topic's local subscribers are failed. @default 5 */
  fillAttempts?: number;
}

/** The log no longer holds the events of a gap: retrying cannot help. */
class LogTooShort extends Error {
  override readonly name = 'LogTooShort';
}

/**
 * One local fan-out point per topic on this instance: a single bus subscription whatever the number of
 * subscribers, logged events passed on strictly in sequence order, and gaps (a lost publish, a reconnect) filled
 * from the log before anything newer is passed on. Every sink receives the same event object, which is what lets
 * the GraphQL layer execute and serialize once per event. Rooms and documents both run on it.
 */
export function createTopicHubs<E>({ source, logger, failure, onDispatch, pageSize = 500, fillAttempts = 5 }: TopicHubsOptions<E>) {
  const hubs = new Map<string, Hub>();

  interface Hub {
    topic: string;
    sinks: Set<TopicSink<E>>;
    ready: Promise<void>;
    lastSeq: number;
    backlog: Array<E | typeof GAP>;
    draining: boolean;
    unsubscribe: (() => Promise<void>) | null;
  }

  const dispatch = (hub: Hub, event: E) => {
    onDispatch?.(event, hub.sinks.size);
    for (const sink of hub.sinks) {
      // One subscriber's failure must not cost the others this event.
      try {
        sink.deliver(event);
      } catch (error) {
        logger.error({ topic: hub.topic, err: error }, 'a subscriber failed to take an event; ending it');
        sink.fail(error instanceof Error ? error : new Error(String(error)));
      }
    }
  };

  async function fill(hub: Hub, upToExclusive: number) {
    for (let attempt = 1; ; attempt++) {
      try {
        while (hub.lastSeq + 1 < upToExclusive) {
          const page = await source.after(hub.topic, hub.lastSeq, Math.min(pageSize, upToExclusive - hub.lastSeq - 1));
          if (page === null) throw new LogTooShort(`the log of ${hub.topic} no longer reaches back to ${hub.lastSeq}`);
          if (page.length === 0) return;
          for (const event of page) {
            const seq = source.seqOf(event) ?? 0;
            if (seq <= hub.lastSeq) continue;
            hub.lastSeq = seq;
            dispatch(hub, event);
          }
        }
        return;
      } catch (error) {
        if (error instanceof LogTooShort || attempt >= fillAttempts) throw error;
        logger.warn({ topic: hub.topic, attempt, err: error }, 'gap fill failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 1_000).unref());
      }
    }
  }

  /**
   * Passes on what needs no log: an event without a sequence number, or the next one in order (one already passed
   * on is dropped). False when the log must be read first.
   */
  function passOn(hub: Hub, item: E): boolean {
    const seq = source.seqOf(item);
    if (seq === null) {
      dispatch(hub, item);
      return true;
    }
    if (seq <= hub.lastSeq) return true;
    if (seq !== hub.lastSeq + 1) return false;
    hub.lastSeq = seq;
    dispatch(hub, item);
    return true;
  }

  /** Handles what can be handled synchronously; hands off to `drain` only when the log must be read. */
  function accept(hub: Hub, item: E | typeof GAP) {
    if (hub.draining) {
      hub.backlog.push(item);
      return;
    }
    if (item !== GAP && passOn(hub, item)) return;
    hub.backlog.push(item);
    void drain(hub);
  }

  async function drain(hub: Hub) {
    hub.draining = true;
    try {
      while (hub.backlog.length > 0) {
        const item = hub.backlog.shift() as E | typeof GAP;
        if (item === GAP) {
          await fill(hub, Number.MAX_SAFE_INTEGER);
        } else if (!passOn(hub, item)) {
          // Read through the event itself and pass on the logged copy: the log is the authority. An event the log
          // does not hold (a well-formed but forged PUBLISH) would otherwise move lastSeq past every real one to
          // come and silence the topic.
          const seq = source.seqOf(item) as number;
          await fill(hub, seq + 1);
          if (hub.lastSeq < seq) logger.warn({ topic: hub.topic, seq }, 'dropped a published event that the log does not hold');
        }
      }
    } catch (error) {
      logger.error({ topic: hub.topic, err: error }, 'could not fill a gap from the log; ending its subscriptions');
      hub.backlog.length = 0;
      const failed = failure(hub.topic, error, error instanceof LogTooShort);
      for (const sink of [...hub.sinks]) sink.fail(failed);
    } finally {
      hub.draining = false;
    }
  }

  function open(topic: string): Hub {
    const hub: Hub = {
      topic,
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
        // Subscribe first, then read where the log stands: the other order loses what is sent in between.
        hub.unsubscribe = await source.subscribe(topic, {
          onEvent: (event) => accept(hub, event),
          onPossibleGap: () => accept(hub, GAP),
        });
        hub.lastSeq = await source.head(topic);
      } catch (error) {
        hubs.delete(topic);
        void hub.unsubscribe?.();
        throw error;
      }
      hub.draining = false;
      if (hub.backlog.length > 0) void drain(hub);
    })();
    return hub;
  }

  return {
    /** Adds a sink to the topic's hub, opening the hub if needed; resolves once the sink is live. */
    async attach(topic: string, sink: TopicSink<E>): Promise<void> {
      let hub = hubs.get(topic);
      if (!hub) {
        hub = open(topic);
        hubs.set(topic, hub);
      }
      hub.sinks.add(sink);
      try {
        await hub.ready;
      } catch (error) {
        this.detach(topic, sink);
        throw error;
      }
    },

    /** Removes a sink; the last one out closes the topic's bus subscription. */
    detach(topic: string, sink: TopicSink<E>): void {
      const hub = hubs.get(topic);
      if (!hub || !hub.sinks.delete(sink) || hub.sinks.size > 0) return;
      hubs.delete(topic);
      void hub.ready
        .then(() => hub.unsubscribe?.())
        .catch((error: unknown) => logger.warn({ topic, err: error }, 'topic unsubscribe failed'));
    },

    /** Topics with at least one local subscriber. */
    get size() {
      return hubs.size;
    },
  };
}

export type TopicHubs<E> = ReturnType<typeof createTopicHubs<E>>;
