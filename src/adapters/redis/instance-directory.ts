import type { Redis } from 'ioredis';
import type { InstanceDirectory, InstanceReport } from '../../observability/instance-directory.ts';
import type { RoomFigures } from '../../observability/room-activity.ts';
import { isRecord, parseJson } from './codec.ts';
import type { Keys } from './keys.ts';

export interface RedisInstanceDirectoryOptions {
  client: Redis;
  keys: Keys;
  /** A report not refreshed within this is gone (a killed or frozen instance). @default 3_000 */
  ttlMs?: number;
}

const FIGURES = ['connections', 'subscriptions', 'messagesPerSecond', 'deliveriesPerSecond'] as const;
// Added for the dashboard: a record from an older instance (rolling upgrade) lacks them and still counts.
const OPTIONAL_FIGURES = ['eventLoopLagMs', 'rssBytes'] as const;

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

function decodeRooms(value: unknown): RoomFigures[] {
  if (!Array.isArray(value)) return [];
  const rooms: RoomFigures[] = [];
  for (const entry of value) {
    if (!isRecord(entry) || typeof entry.roomId !== 'string' || !isCount(entry.online) || !isCount(entry.recentMessages)) continue;
    const users = Array.isArray(entry.users) && entry.users.every((id) => typeof id === 'string') ? (entry.users as string[]) : undefined;
    rooms.push({ roomId: entry.roomId, online: entry.online, recentMessages: entry.recentMessages, ...(users ? { users } : {}) });
  }
  return rooms;
}

function decodeReport(instanceId: string, raw: string): InstanceReport | null {
  const record = parseJson(raw);
  if (!isRecord(record)) return null;
  const report: InstanceReport = {
    instanceId,
    connections: 0,
    subscriptions: 0,
    messagesPerSecond: 0,
    deliveriesPerSecond: 0,
    eventLoopLagMs: 0,
    rssBytes: 0,
    rooms: decodeRooms(record.rooms),
  };
  for (const name of FIGURES) {
    const figure = record[name];
    if (typeof figure !== 'number' || !Number.isFinite(figure)) return null;
    report[name] = figure;
  }
  for (const name of OPTIONAL_FIGURES) {
    const figure = record[name];
    if (typeof figure === 'number' && Number.isFinite(figure)) report[name] = figure;
  }
  return report;
}

/**
 * One key per instance with a PX expiry (Redis's clock decides liveness, so skewed instance clocks do not
 * matter) and a set naming the instances, pruned of ids whose key has expired whenever it is read.
 */
export function createRedisInstanceDirectory({ client, keys, ttlMs = 3_000 }: RedisInstanceDirectoryOptions): InstanceDirectory {
  return {
    async report(instanceId, record) {
      await client.multi().set(keys.instance(instanceId), JSON.stringify(record), 'PX', ttlMs).sadd(keys.instances, instanceId).exec();
    },
    async list() {
      const ids = await client.smembers(keys.instances);
      if (ids.length === 0) return [];
      const raws = await client.mget(...ids.map((id) => keys.instance(id)));
      const reports: InstanceReport[] = [];
      const gone: string[] = [];
      ids.forEach((id, index) => {
        const raw = raws[index];
        const report = raw == null ? null : decodeReport(id, raw);
        if (report) reports.push(report);
        else gone.push(id);
      });
      // Best effort: a concurrent report re-adds an id that is still alive.
      if (gone.length > 0) client.srem(keys.instances, ...gone).catch(() => undefined);
      return reports;
    },
    async remove(instanceId) {
      await client.multi().del(keys.instance(instanceId)).srem(keys.instances, instanceId).exec();
    },
  };
}
