import type { Redis } from 'ioredis';
import type { Logger } from '../../chat/logger.ts';
import type { PresenceStore } from '../../chat/ports/index.ts';
import type { Presence, User } from '../../chat/types.ts';
import { decodePresenceUser, encodePresenceUser, encodeRoomEvent } from './codec.ts';
import { orUnavailable } from './errors.ts';
import type { Keys } from './keys.ts';
import { loadLuaScript } from './scripts.ts';

export interface RedisPresenceStoreOptions {
  client: Redis;
  keys: Keys;
  logger: Logger;
  /** A connection not refreshed for this long is reaped by another instance (MemberLeft). */
  ttlMs: number;
  /** How often this instance refreshes all its connections in one go. @default ttlMs / 3 */
  refreshIntervalMs?: number;
  /** How often this instance looks for expired connections. @default ttlMs / 2 */
  reapIntervalMs?: number;
  /** Expired entries claimed per script run (the reaper loops while batches are full). @default 500 */
  reapBatch?: number;
}

interface LocalConnection {
  roomId: string;
  user: User;
  connectionId: string;
}

const REFRESH_CHUNK = 1_000;

export interface RedisPresenceStore extends PresenceStore {
  /** Runs one refresh now (what the timer does); exposed for tests and shutdown paths. */
  refresh(): Promise<void>;
  /** Runs one reaper pass now. */
  reap(): Promise<void>;
}

/**
 * Presence is announced from inside the join, leave and reap scripts (PUBLISH on the room channel, as the
 * message append does), so the MemberJoined / MemberLeft of a user reach every instance in transition order
 * and a transition is never recorded without its announcement being attempted in the same step.
 *
 * Per room: connections hash (connection -> user), counts hash (user -> connections), users hash (user -> name,
 * since). One global zset holds every connection's expiry, refreshed by its instance with one timer for all
 * its connections, and scanned by a reaper on every instance: the Lua claim makes exactly one of them report
 * each user whose last connection expired.
 */
export function createRedisPresenceStore(options: RedisPresenceStoreOptions): RedisPresenceStore {
  const { client, keys, logger, ttlMs } = options;
  const { refreshIntervalMs = Math.max(10, Math.floor(ttlMs / 3)), reapIntervalMs = Math.max(10, Math.floor(ttlMs / 2)) } = options;
  const { reapBatch = 500 } = options;
  const scripts = {
    join: loadLuaScript(client, 'presence-join'),
    leave: loadLuaScript(client, 'presence-leave'),
    refresh: loadLuaScript(client, 'presence-refresh'),
    reap: loadLuaScript(client, 'presence-reap'),
  };
  const handlers = new Set<(roomId: string, user: User) => void>();
  const rejoinedHandlers = new Set<(roomId: string, user: User, at: string) => void>();
  /** This instance's connections by expiry member. */
  const local = new Map<string, LocalConnection>();
  let closed = false;

  const expiryMember = (roomId: string, connectionId: string) => `${Buffer.byteLength(roomId, 'utf8')}:${roomId}${connectionId}`;
  const roomKeys = (roomId: string) => [
    keys.presenceConnections(roomId),
    keys.presenceCounts(roomId),
    keys.presenceUsers(roomId),
    keys.presenceExpiry,
  ];

  const register = async ({ roomId, user, connectionId }: LocalConnection, at: string) =>
    (await scripts.join.run(roomKeys(roomId), [
      connectionId,
      user.id,
      encodePresenceUser(user, at),
      ttlMs,
      expiryMember(roomId, connectionId),
      keys.roomChannel(roomId),
      encodeRoomEvent({ kind: 'joined', roomId, user, at }),
    ])) === 1;

  /** Runs the leave script: 1 last connection (MemberLeft published), 2 last but not published, 0 otherwise. */
  const release = async (roomId: string, user: User, connectionId: string, at: string) =>
    (await scripts.leave.run(roomKeys(roomId), [
      connectionId,
      expiryMember(roomId, connectionId),
      keys.roomChannel(roomId),
      encodeRoomEvent({ kind: 'left', roomId, user, at }),
    ])) as number;

  async function refresh(): Promise<void> {
    const members = [...local.keys()];
    for (let start = 0; start < members.length; start += REFRESH_CHUNK) {
      const chunk = members.slice(start, start + REFRESH_CHUNK);
      const missing = (await scripts.refresh.run([keys.presenceExpiry], [ttlMs, ...chunk])) as string[];
      for (const member of missing) {
        const connection = local.get(member);
        if (!connection) continue; // left meanwhile
        const at = new Date().toISOString();
        const first = await register(connection, at);
        logger.warn({ roomId: connection.roomId, userId: connection.user.id, first }, 'presence entry had been reaped; registered again');
        if (first && local.has(member)) for (const handler of rejoinedHandlers) handler(connection.roomId, connection.user, at);
      }
    }
  }

  async function reap(): Promise<void> {
    for (;;) {
      const gone = (await scripts.reap.run(
        [keys.presenceExpiry],
        [
          keys.presenceConnectionsPrefix,
          keys.presenceCountsPrefix,
          keys.presenceUsersPrefix,
          reapBatch,
          keys.roomChannelPrefix,
          new Date().toISOString(),
        ],
      )) as string[];
      for (let i = 0; i + 2 < gone.length; i += 3) {
        const roomId = gone[i] as string;
        const userId = gone[i + 1] as string;
        const user = decodePresenceUser(gone[i + 2] ?? '')?.user ?? { id: userId, name: userId };
        for (const handler of handlers) {
          try {
            handler(roomId, user);
          } catch (error) {
            logger.error({ roomId, userId, err: error }, 'presence expiry handler threw');
          }
        }
      }
      if (gone.length === 0 || closed) return;
    }
  }

  /** Runs `task` every `intervalMs`, never overlapping itself, never throwing out of the timer. */
  const every = (name: string, intervalMs: number, task: () => Promise<void>) => {
    let running = false;
    return setInterval(() => {
      if (running || closed) return;
      running = true;
      task()
        .catch((error: unknown) => logger.warn({ err: error }, `presence ${name} failed; next tick retries`))
        .finally(() => {
          running = false;
        });
    }, intervalMs).unref();
  };
  const timers = [every('refresh', refreshIntervalMs, refresh), every('reaper', reapIntervalMs, reap)];

  return {
    async join(roomId, user, connectionId, at) {
      const connection = { roomId, user, connectionId };
      try {
        const first = await orUnavailable('presence join', () => register(connection, at));
        local.set(expiryMember(roomId, connectionId), connection);
        return { first };
      } catch (error) {
        // The client is told UNAVAILABLE and nothing more; the log keeps what Redis said.
        logger.warn({ roomId, userId: user.id, err: error }, 'presence join failed');
        // The script may have run with its reply lost (a timeout, a dropped connection): release whatever it may
        // have recorded, since nobody will refresh or leave it. Queued behind the join on the same connection, so
        // it runs after it; a no-op (and MemberLeft only if the join was announced) otherwise.
        release(roomId, user, connectionId, new Date().toISOString()).catch((releaseError: unknown) =>
          logger.warn({ roomId, userId: user.id, err: releaseError }, 'could not release a failed presence join; the reaper will'),
        );
        throw error;
      }
    },

    async leave(roomId, user, connectionId, at) {
      // Forgotten first, so a refresh running meanwhile cannot register it again.
      local.delete(expiryMember(roomId, connectionId));
      const last = await orUnavailable('presence leave', () => release(roomId, user, connectionId, at));
      if (last === 2) logger.warn({ roomId, userId: user.id }, 'left the room, but Redis refused to publish MemberLeft');
      return { last: last === 1 || last === 2 };
    },

    async list(roomId) {
      const [users, counts] = await orUnavailable('presence list', () =>
        Promise.all([client.hgetall(keys.presenceUsers(roomId)), client.hgetall(keys.presenceCounts(roomId))]),
      );
      const presence: Presence[] = [];
      for (const [userId, raw] of Object.entries(users)) {
        const entry = decodePresenceUser(raw);
        const connections = Number(counts[userId] ?? 0);
        if (entry && connections > 0) presence.push({ user: entry.user, since: entry.since, connections });
      }
      return presence.sort((a, b) => a.since.localeCompare(b.since) || a.user.id.localeCompare(b.user.id));
    },

    onExpired(handler) {
      handlers.add(handler);
    },

    onRejoined(handler) {
      rejoinedHandlers.add(handler);
    },

    refresh,
    reap,

    async close() {
      // Entries are left in Redis: a graceful shutdown leaves through the presence service, and anything left
      // over is what the surviving instances' reapers are for.
      closed = true;
      for (const timer of timers) clearInterval(timer);
      handlers.clear();
      rejoinedHandlers.clear();
      local.clear();
    },
  };
}
