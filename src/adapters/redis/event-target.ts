import type { createRedisEventTarget as createStockRedisEventTarget } from '@graphql-yoga/redis-event-target';
import type { Redis } from 'ioredis';
import { ChatError } from '../../chat/errors.ts';
import type { Logger } from '../../chat/logger.ts';
import { backoffMs } from './connections.ts';

/** The interface of the stock `@graphql-yoga/redis-event-target` (what Yoga's `createPubSub` accepts). */
export type StockRedisEventTarget<TEvent extends CustomEvent> = ReturnType<typeof createStockRedisEventTarget<TEvent>>;

export interface TopicListener {
  onMessage(detail: unknown): void;
  /** The topic was resubscribed after a reconnect: whatever was published meanwhile is lost (pitfalls §5). */
  onResubscribed(): void;
}

export interface Serializer {
  stringify(detail: unknown): string;
  /** Throws for a payload that must be dropped. */
  parse(raw: string): unknown;
}

/**
 * The stock event target plus the promises it cannot express: `publish` settles with the PUBLISH reply,
 * `listen` resolves once Redis confirmed the SUBSCRIBE and reports every resubscription.
 */
export interface HardenedRedisEventTarget<TEvent extends CustomEvent> extends StockRedisEventTarget<TEvent> {
  /** Rejects with ChatError('UNAVAILABLE') when Redis did not take the message. */
  publish(topic: string, detail: unknown): Promise<void>;
  /** Rejects with ChatError('UNAVAILABLE') when the SUBSCRIBE is not confirmed within `subscribeTimeoutMs`. */
  listen(topic: string, listener: TopicListener): Promise<() => Promise<void>>;
  close(): void;
}

export interface HardenedRedisEventTargetOptions {
  publishClient: Redis;
  /** Must be created with `autoResubscribe: false`: resubscription is done here, where the gap is known. */
  subscribeClient: Redis;
  logger: Logger;
  serializer?: Serializer;
  /** How long `listen` waits for the SUBSCRIBE reply (also across a reconnect). @default 5_000 */
  subscribeTimeoutMs?: number;
  /** Upper bound of the delay before a failed SUBSCRIBE/UNSUBSCRIBE is retried. @default 2_000 */
  maxRetryDelayMs?: number;
}

interface Channel {
  topic: string;
  listeners: Set<TopicListener>;
  /** Where Redis stands for this topic on the current subscriber connection. */
  state: 'down' | 'subscribing' | 'live' | 'unsubscribing';
  /** Was live on an earlier connection: the next confirmation must report a possible gap. */
  lost: boolean;
  waiters: Set<() => void>;
}

/**
 * The client sees this message (as UNAVAILABLE): it names no key or channel, which are internal; the caller
 * logs the topic beside it.
 */
const unavailable = (message: string, cause: unknown) => new ChatError('UNAVAILABLE', message, { cause });

/**
 * Replaces `@graphql-yoga/redis-event-target` behind the same interface (see README.md, pitfalls §1-9):
 * awaited and caught PUBLISH/SUBSCRIBE/UNSUBSCRIBE, guarded parse and listeners, a topic counted as
 * subscribed only once Redis confirmed it, failed SUBSCRIBEs retried, no SUBSCRIBE before the connection is
 * ready (ioredis #2037), and all SUBSCRIBE/UNSUBSCRIBE traffic serialized through one reconcile loop so
 * listener churn never interleaves commands on the subscriber connection (ioredis #1981).
 */
export function createHardenedRedisEventTarget<TEvent extends CustomEvent>(
  options: HardenedRedisEventTargetOptions,
): HardenedRedisEventTarget<TEvent> {
  const { publishClient, subscribeClient: subscriber, logger, serializer = JSON } = options;
  const { subscribeTimeoutMs = 5_000, maxRetryDelayMs = 2_000 } = options;
  const channels = new Map<string, Channel>();
  let closed = false;
  /** Bumped whenever the subscriber connection drops: replies from an older connection are ignored. */
  let epoch = 0;
  let reconciling = false;
  let again = false;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;

  const safely = (what: string, topic: string, run: () => void) => {
    try {
      run();
    } catch (error) {
      logger.error({ topic, err: error }, `${what} threw`);
    }
  };

  function onMessage(topic: string, raw: string) {
    const channel = channels.get(topic);
    if (!channel || channel.listeners.size === 0) return;
    let detail: unknown;
    try {
      detail = serializer.parse(raw);
    } catch (error) {
      logger.warn({ topic, err: error, bytes: raw.length }, 'dropped a malformed pub/sub payload');
      return;
    }
    for (const listener of [...channel.listeners]) safely('topic listener', topic, () => listener.onMessage(detail));
  }

  function onConnectionLost() {
    epoch++;
    for (const channel of channels.values()) {
      if (channel.state === 'live' || channel.state === 'unsubscribing') channel.lost = true;
      channel.state = 'down';
      if (channel.listeners.size === 0) channels.delete(channel.topic);
    }
  }

  function confirm(channel: Channel) {
    channel.state = 'live';
    for (const wake of channel.waiters) wake();
    channel.waiters.clear();
    if (!channel.lost) return;
    channel.lost = false;
    logger.info({ topic: channel.topic }, 'resubscribed after a reconnect; listeners fill the gap');
    for (const listener of [...channel.listeners]) {
      safely('topic gap listener', channel.topic, () => listener.onResubscribed());
    }
  }

  function scheduleRetry() {
    if (closed || retryTimer) return;
    failures++;
    const delay = backoffMs(failures, 6, maxRetryDelayMs);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void reconcile();
    }, delay).unref();
  }

  /** One pass at a time; a request during a pass makes it run once more. Never rejects. */
  async function reconcile(): Promise<void> {
    if (reconciling) {
      again = true;
      return;
    }
    reconciling = true;
    try {
      do {
        again = false;
        if (closed || subscriber.status !== 'ready') return;
        const toSubscribe = [...channels.values()].filter((c) => c.listeners.size > 0 && c.state === 'down');
        const toUnsubscribe = [...channels.values()].filter((c) => c.listeners.size === 0 && c.state === 'live');
        if (toSubscribe.length === 0 && toUnsubscribe.length === 0) return;
        for (const channel of toSubscribe) channel.state = 'subscribing';
        for (const channel of toUnsubscribe) channel.state = 'unsubscribing';
        const started = epoch;
        const [subscribed, unsubscribed] = await Promise.allSettled([
          toSubscribe.length > 0 ? subscriber.subscribe(...toSubscribe.map((c) => c.topic)) : Promise.resolve(0),
          toUnsubscribe.length > 0 ? subscriber.unsubscribe(...toUnsubscribe.map((c) => c.topic)) : Promise.resolve(0),
        ]);
        if (started !== epoch) {
          // The connection dropped meanwhile: onConnectionLost reset every state; 'ready' runs us again.
          again = true;
          continue;
        }
        if (subscribed.status === 'fulfilled') {
          for (const channel of toSubscribe) if (channel.state === 'subscribing') confirm(channel);
        } else {
          logger.warn({ topics: toSubscribe.length, err: subscribed.reason }, 'SUBSCRIBE failed; retrying');
          for (const channel of toSubscribe) if (channel.state === 'subscribing') channel.state = 'down';
        }
        if (unsubscribed.status === 'fulfilled') {
          for (const channel of toUnsubscribe) {
            if (channel.state !== 'unsubscribing') continue;
            channel.state = 'down';
            if (channel.listeners.size === 0) channels.delete(channel.topic);
          }
        } else {
          logger.warn({ topics: toUnsubscribe.length, err: unsubscribed.reason }, 'UNSUBSCRIBE failed; retrying');
          for (const channel of toUnsubscribe) if (channel.state === 'unsubscribing') channel.state = 'live';
        }
        if (subscribed.status === 'rejected' || unsubscribed.status === 'rejected') {
          scheduleRetry();
          return;
        }
        failures = 0;
        // Listeners may have come or gone while the commands were in flight.
        again = true;
      } while (again);
    } catch (error) {
      logger.error({ err: error }, 'pub/sub reconcile failed; retrying');
      scheduleRetry();
    } finally {
      reconciling = false;
    }
  }

  const onReady = () => void reconcile();
  subscriber.on('message', onMessage);
  subscriber.on('close', onConnectionLost);
  subscriber.on('ready', onReady);

  async function listen(topic: string, listener: TopicListener): Promise<() => Promise<void>> {
    if (closed) throw unavailable('event target closed', undefined);
    let channel = channels.get(topic);
    if (!channel) {
      channel = { topic, listeners: new Set(), state: 'down', lost: false, waiters: new Set() };
      channels.set(topic, channel);
    }
    const current = channel;
    current.listeners.add(listener);
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      current.listeners.delete(listener);
      if (current.listeners.size > 0) return;
      if (current.state === 'down' && channels.get(topic) === current) channels.delete(topic);
      await reconcile();
    };
    if (current.state === 'live') return release;

    let wake: () => void = () => undefined;
    let timer: NodeJS.Timeout | undefined;
    const confirmed = await new Promise<boolean>((resolve) => {
      wake = () => resolve(true);
      current.waiters.add(wake);
      timer = setTimeout(() => resolve(false), subscribeTimeoutMs);
      void reconcile();
    });
    clearTimeout(timer);
    current.waiters.delete(wake);
    if (confirmed && !closed) return release;
    await release();
    logger.warn({ topic, subscribeTimeoutMs }, 'SUBSCRIBE not confirmed in time');
    throw unavailable('Redis unavailable: subscription not confirmed', undefined);
  }

  async function publish(topic: string, detail: unknown): Promise<void> {
    const payload = serializer.stringify(detail);
    try {
      await publishClient.publish(topic, payload);
    } catch (error) {
      logger.warn({ topic, err: error }, 'PUBLISH failed');
      throw unavailable('Redis unavailable: event not published', error);
    }
  }

  /** EventTarget-style callbacks, kept so this stays a drop-in for `createPubSub({ eventTarget })`. */
  type Callback = Parameters<StockRedisEventTarget<TEvent>['addEventListener']>[1];
  const callbackReleases = new Map<string, Map<NonNullable<Callback>, Promise<(() => Promise<void>) | null>>>();

  return {
    addEventListener(type: string, callback: Callback) {
      if (callback == null) return;
      const handle = 'handleEvent' in callback ? callback.handleEvent.bind(callback) : callback;
      const byCallback = callbackReleases.get(type) ?? new Map();
      callbackReleases.set(type, byCallback);
      if (byCallback.has(callback)) return;
      const releasing = listen(type, {
        onMessage: (detail) => handle(new CustomEvent(type, { detail }) as never),
        onResubscribed: () => undefined,
      }).catch((error: unknown) => {
        logger.warn({ topic: type, err: error }, 'addEventListener: subscription not confirmed');
        byCallback.delete(callback);
        return null;
      });
      byCallback.set(callback, releasing);
    },
    removeEventListener(type: string, callback: Callback) {
      if (callback == null) return;
      const byCallback = callbackReleases.get(type);
      const releasing = byCallback?.get(callback);
      if (!byCallback || !releasing) return;
      byCallback.delete(callback);
      if (byCallback.size === 0) callbackReleases.delete(type);
      void releasing
        .then((release) => release?.())
        .catch((error: unknown) => logger.warn({ topic: type, err: error }, 'removeEventListener failed'));
    },
    dispatchEvent(event: TEvent) {
      // EventTarget's boolean cannot carry the outcome: the failure is logged here, `publish` reports it.
      publish(event.type, event.detail === undefined ? null : event.detail).catch((error: unknown) =>
        logger.error({ topic: event.type, err: error }, 'dispatchEvent: PUBLISH failed'),
      );
      return true;
    },
    publish,
    listen,
    close() {
      closed = true;
      clearTimeout(retryTimer);
      subscriber.off('message', onMessage);
      subscriber.off('close', onConnectionLost);
      subscriber.off('ready', onReady);
      for (const channel of channels.values()) for (const wake of channel.waiters) wake();
      channels.clear();
      callbackReleases.clear();
    },
  };
}
