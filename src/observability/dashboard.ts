import type { Logger } from '../chat/logger.ts';
import {
  dashboardDelta,
  type DashboardEventModel,
  type DashboardView,
  type InstanceStatsEntry,
  type RoomStatsEntry,
} from './dashboard-delta.ts';
import type { InstanceReport } from './instance-directory.ts';
import { sumFigures } from './server-stats.ts';

export interface DashboardOptions {
  /** The per-instance sampler (one timer) and the cluster's records: `createServerStats`. */
  stats: {
    readonly sampleIntervalMs: number;
    records(): Promise<InstanceReport[]>;
    onSample(listener: () => void): () => void;
  };
  /** A room's name, or null when it is unknown (names never change, so they are cached while shown). */
  roomName(roomId: string): Promise<string | null>;
  logger: Logger;
  /** Rooms shown. @default 50 */
  maxRooms?: number;
  /** The seconds `recentMessages` counts over (`createRoomActivity`'s window). @default 10 */
  rateWindowSeconds?: number;
}

interface Published {
  seq: number;
  computedAt: number;
  view: DashboardView;
}

const round2 = (value: number) => Math.round(value * 100) / 100;

/** Busiest first: messages per second, then online; the id breaks ties so equal figures keep one order. */
const byActivity = (a: RoomStatsEntry, b: RoomStatsEntry) =>
  b.messagesPerSecond - a.messagesPerSecond || b.online - a.online || (a.roomId < b.roomId ? -1 : a.roomId > b.roomId ? 1 : 0);

function instanceEntry(report: InstanceReport): InstanceStatsEntry {
  return {
    id: report.instanceId,
    connections: report.connections,
    subscriptions: report.subscriptions,
    messagesPerSecond: round2(report.messagesPerSecond),
    deliveriesPerSecond: round2(report.deliveriesPerSecond),
    eventLoopLagMs: round2(report.eventLoopLagMs),
    rssBytes: report.rssBytes,
  };
}

/**
 * The `dashboard` subscription's source. One view of the cluster is computed per sample (on the sampler's own
 * timer, and only while someone watches) and shared by every subscriber; each subscriber keeps only the view it
 * was last sent, and gets the delta from it to the newest. A new subscriber's snapshot is the newest view, the
 * very one the older subscribers get their delta to, so applying deltas and taking a snapshot agree exactly.
 */
export function createDashboard({ stats, roomName, logger, maxRooms = 50, rateWindowSeconds = 10 }: DashboardOptions) {
  let latest: Published | null = null;
  let computing: Promise<Published> | null = null;
  let sequence = 0;
  let watching = 0;
  const waiters = new Set<() => void>();
  // Only the rooms on show keep a cached name: the cache is as bounded as the table.
  let names = new Map<string, string>();

  async function compute(): Promise<DashboardView> {
    const records = await stats.records();
    const at = new Date().toISOString();
    // Users are counted by id while every instance names them (small rooms), else the instances' counts are summed.
    const merged = new Map<string, { online: number; recentMessages: number; users: Set<string> | null }>();
    for (const record of records) {
      for (const room of record.rooms) {
        const sum = merged.get(room.roomId) ?? { online: 0, recentMessages: 0, users: new Set<string>() };
        sum.online += room.online;
        sum.recentMessages += room.recentMessages;
        if (room.online > 0) {
          if (room.users && sum.users) for (const id of room.users) sum.users.add(id);
          else sum.users = null;
        }
        merged.set(room.roomId, sum);
      }
    }
    const ranked = [...merged]
      .map(([roomId, sum]) => ({
        roomId,
        name: '',
        online: sum.users ? sum.users.size : sum.online,
        messagesPerSecond: round2(sum.recentMessages / rateWindowSeconds),
      }))
      .sort(byActivity)
      .slice(0, maxRooms);
    const shownNames = new Map<string, string>();
    await Promise.all(
      ranked.map(async (room) => {
        const known = names.get(room.roomId) ?? (await roomName(room.roomId).catch(() => null));
        // An unreadable name is retried next time rather than cached as the id.
        if (known !== null) shownNames.set(room.roomId, known);
        room.name = known ?? room.roomId;
      }),
    );
    names = shownNames;
    return {
      at,
      totals: sumFigures(at, records),
      instances: records.map(instanceEntry).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
      rooms: ranked,
    };
  }

  function refresh(): Promise<Published> {
    computing ??= compute()
      .then((view) => {
        latest = { seq: ++sequence, computedAt: Date.now(), view };
        for (const wake of waiters) wake();
        waiters.clear();
        return latest;
      })
      .finally(() => {
        computing = null;
      });
    return computing;
  }

  stats.onSample(() => {
    if (watching > 0) refresh().catch((error: unknown) => logger.warn({ err: error }, 'dashboard view could not be computed'));
  });

  const current = (): Promise<Published> =>
    latest && Date.now() - latest.computedAt < stats.sampleIntervalMs ? Promise.resolve(latest) : refresh();

  /** The first view newer than `seq`, or null once `signal` aborts. */
  async function newerThan(seq: number, signal: AbortSignal): Promise<Published | null> {
    while (!signal.aborted) {
      if (latest && latest.seq > seq) return latest;
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal.removeEventListener('abort', wake);
          waiters.delete(wake);
          resolve();
        };
        waiters.add(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
    return null;
  }

  return {
    /** How many dashboard subscriptions are open on this instance. */
    get watching() {
      return watching;
    },
    /** A snapshot at once, then a delta after each sample, until the iterator is returned. */
    subscribe(): AsyncIterableIterator<DashboardEventModel> {
      const abort = new AbortController();
      async function* events(): AsyncGenerator<DashboardEventModel> {
        watching += 1;
        try {
          let sent = await current();
          yield { kind: 'snapshot', ...sent.view };
          for (;;) {
            const next = await newerThan(sent.seq, abort.signal);
            if (!next) return;
            yield dashboardDelta(sent.view, next.view);
            sent = next;
          }
        } finally {
          watching -= 1;
        }
      }
      const iterator = events();
      const end = iterator.return.bind(iterator);
      // A generator waiting for the next view would keep `return()` pending until then; aborting wakes it at once.
      iterator.return = async (value) => {
        abort.abort();
        return end(value);
      };
      return iterator;
    },
  };
}

export type Dashboard = ReturnType<typeof createDashboard>;
