import type { Logger } from '../../chat/logger.ts';
import type { ChatAdapters } from '../../chat/ports/index.ts';
import type { DocumentAdapters } from '../../documents/ports/index.ts';
import type { InstanceDirectory } from '../../observability/instance-directory.ts';
import { closeConnection, createRedisClock, createRedisConnection, waitReady } from './connections.ts';
import { createRedisDocumentEventBus, documentEventSerializer } from './document-event-bus.ts';
import { createRedisDocumentStore } from './document-store.ts';
import { createRedisEventBus, roomEventSerializer } from './event-bus.ts';
import { createHardenedRedisEventTarget } from './event-target.ts';
import { createKeys } from './keys.ts';
import { createRedisInstanceDirectory } from './instance-directory.ts';
import { createRedisMessageStore, MESSAGE_LIMIT } from './message-store.ts';
import { createRedisPresenceStore, type RedisPresenceStore } from './presence-store.ts';
import { createRedisRateLimiter } from './rate-limiter.ts';
import { createRedisRoomStore } from './room-store.ts';
import { createRedisUserEventBus, userEventSerializer } from './user-event-bus.ts';

export interface RedisAdapterOptions {
  logger: Logger;
  historyLimit: number;
  messageRate: number;
  messageBurst: number;
  /** createRoom per user per minute. @default 30 */
  roomRate?: number;
  /** setTyping per user per second. @default 5 */
  typingRate?: number;
  /** editDocument per user per second (bucket refill). @default 20 */
  editRate?: number;
  /** @default 2 x editRate */
  editBurst?: number;
  /** moveCursor per user per second. @default 10 */
  cursorRate?: number;
  /** Edits kept per document. @default 1_000 */
  docHistoryLimit?: number;
  /** `redis://host:port/db` */
  url: string;
  /** Put in front of every key and channel name. */
  prefix: string;
  /** A connection whose instance stops refreshing it is reaped after this long (MemberLeft). */
  presenceTtlMs: number;
  /** Deadline of each Redis command: how long a mutation can wait on a frozen Redis. @default 2_000 */
  commandTimeoutMs?: number;
  /** How long `subscribe` waits for Redis to confirm a SUBSCRIBE. @default 5_000 */
  subscribeTimeoutMs?: number;
  /** How long start-up waits for Redis before going on (and reporting not ready). @default 5_000 */
  connectTimeoutMs?: number;
  /** @default presenceTtlMs / 3 */
  presenceRefreshIntervalMs?: number;
  /** @default presenceTtlMs / 2 */
  presenceReapIntervalMs?: number;
  /** `/ready` answers false when PING takes longer. @default 1_000 */
  pingTimeoutMs?: number;
}

export interface RedisAdapters extends ChatAdapters, DocumentAdapters {
  presence: RedisPresenceStore;
  /** Cluster-wide serverStats: not a chat port, so it sits beside them rather than in ChatAdapters. */
  instances: InstanceDirectory;
}

/**
 * Two connections per instance: one for commands and PUBLISH, one in subscriber mode (Redis forbids other
 * commands on it). Start-up does not fail when Redis is down: commands answer UNAVAILABLE, `ping` answers
 * false, and everything resumes when the connections come back.
 */
export async function createRedisAdapters(options: RedisAdapterOptions): Promise<RedisAdapters> {
  const { logger, url, commandTimeoutMs = 2_000, connectTimeoutMs = 5_000, pingTimeoutMs = 1_000 } = options;
  const { roomRate = 30, typingRate = 5, editRate = 20, editBurst = editRate * 2, cursorRate = 10, docHistoryLimit = 1_000 } = options;
  const keys = createKeys(options.prefix);
  const command = createRedisConnection('command', { url, logger, commandTimeoutMs });
  const subscriber = createRedisConnection('subscriber', { url, logger, commandTimeoutMs });
  const clock = createRedisClock(command, logger);

  const target = createHardenedRedisEventTarget<CustomEvent>({
    publishClient: command,
    subscribeClient: subscriber,
    logger,
    serializer: roomEventSerializer,
    ...(options.subscribeTimeoutMs === undefined ? {} : { subscribeTimeoutMs: options.subscribeTimeoutMs }),
  });
  const bus = createRedisEventBus(target, keys, logger);
  // Documents get a subscriber connection of their own: an event target parses every message of its connection
  // with one serializer, and keeping document channels apart leaves the room machinery as it is.
  const documentSubscriber = createRedisConnection('subscriber', { url, logger, commandTimeoutMs });
  const documentBus = createRedisDocumentEventBus(
    createHardenedRedisEventTarget<CustomEvent>({
      publishClient: command,
      subscribeClient: documentSubscriber,
      logger,
      serializer: documentEventSerializer,
      ...(options.subscribeTimeoutMs === undefined ? {} : { subscribeTimeoutMs: options.subscribeTimeoutMs }),
    }),
    keys,
    logger,
  );
  // User events too, for the same reason: their own serializer, and user channels apart from room channels.
  const userSubscriber = createRedisConnection('subscriber', { url, logger, commandTimeoutMs });
  const userBus = createRedisUserEventBus(
    createHardenedRedisEventTarget<CustomEvent>({
      publishClient: command,
      subscribeClient: userSubscriber,
      logger,
      serializer: userEventSerializer,
      ...(options.subscribeTimeoutMs === undefined ? {} : { subscribeTimeoutMs: options.subscribeTimeoutMs }),
    }),
    keys,
  );
  const presence = createRedisPresenceStore({
    client: command,
    keys,
    logger,
    ttlMs: options.presenceTtlMs,
    ...(options.presenceRefreshIntervalMs === undefined ? {} : { refreshIntervalMs: options.presenceRefreshIntervalMs }),
    ...(options.presenceReapIntervalMs === undefined ? {} : { reapIntervalMs: options.presenceReapIntervalMs }),
  });

  const ready = await Promise.all(
    [command, subscriber, documentSubscriber, userSubscriber].map((connection) => waitReady(connection, connectTimeoutMs)),
  );
  if (ready.includes(false)) logger.warn({ prefix: options.prefix }, 'Redis not reachable yet; retrying in the background');
  else await clock.sync();

  const ping = async (): Promise<boolean> => {
    if ([subscriber, documentSubscriber, userSubscriber].some((connection) => connection.status !== 'ready')) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), pingTimeoutMs);
    });
    try {
      return await Promise.race([
        command.ping().then(
          (reply) => reply === 'PONG',
          () => false,
        ),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  };

  const messageRate = { ratePerSecond: options.messageRate, burst: options.messageBurst };
  let closing: Promise<void> | undefined;
  return {
    bus,
    userBus,
    messages: createRedisMessageStore({
      client: command,
      keys,
      logger,
      historyLimit: options.historyLimit,
      rate: messageRate,
      clock,
      commandTimeoutMs,
    }),
    rooms: createRedisRoomStore(command, keys, logger),
    presence,
    instances: createRedisInstanceDirectory({ client: command, keys }),
    messageRate: createRedisRateLimiter({ client: command, keys, name: MESSAGE_LIMIT, ...messageRate }),
    roomRate: createRedisRateLimiter({ client: command, keys, name: 'room', ratePerSecond: roomRate / 60, burst: roomRate }),
    typingRate: createRedisRateLimiter({ client: command, keys, name: 'typing', ratePerSecond: typingRate, burst: typingRate }),
    documents: createRedisDocumentStore({ client: command, keys, logger, historyLimit: docHistoryLimit, clock, commandTimeoutMs }),
    documentBus,
    editRate: createRedisRateLimiter({ client: command, keys, name: 'edit', ratePerSecond: editRate, burst: editBurst }),
    cursorRate: createRedisRateLimiter({ client: command, keys, name: 'cursor', ratePerSecond: cursorRate, burst: cursorRate }),
    ping,
    close() {
      closing ??= (async () => {
        clock.stop();
        await presence.close();
        await bus.close();
        await documentBus.close();
        await userBus.close();
        await Promise.all([subscriber, documentSubscriber, userSubscriber, command].map((connection) => closeConnection(connection)));
      })();
      return closing;
    },
  };
}
