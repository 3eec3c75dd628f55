import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Logger } from '../chat/logger.ts';
import type { InstanceDirectory, InstanceFigures, InstanceRecord, InstanceReport } from './instance-directory.ts';
import type { MetricSources } from './metrics.ts';
import type { RoomFigures } from './room-activity.ts';

/** Every instance's figures summed, and how many instances reported (the GraphQL `ServerStats` maps to it). */
export interface ServerStatsSnapshot extends InstanceFigures {
  at: string;
  instances: number;
}

export type StatsSources = Pick<MetricSources, 'connections' | 'subscriptions' | 'messagesIn' | 'deliveries'>;

export interface ServerStatsOptions {
  sources: StatsSources;
  /** Where every instance's figures meet: this process only, or the cluster's Redis. */
  directory: InstanceDirectory;
  logger: Logger;
  /** This instance's active rooms, sampled with the rest and written with its record. @default none */
  rooms?: { sample(): RoomFigures[] };
  /** @default a random UUID */
  instanceId?: string;
  /** How often rates are sampled and this instance's figures reported to the directory. @default 1_000 */
  sampleIntervalMs?: number;
}

/** Sums the `serverStats` figures of a set of instance records. */
export function sumFigures(at: string, all: readonly InstanceFigures[]): ServerStatsSnapshot {
  const sum = (pick: (figures: InstanceFigures) => number) => all.reduce((total, figures) => total + pick(figures), 0);
  return {
    at,
    instances: all.length,
    connections: sum((f) => f.connections),
    subscriptions: sum((f) => f.subscriptions),
    messagesPerSecond: sum((f) => f.messagesPerSecond),
    deliveriesPerSecond: sum((f) => f.deliveriesPerSecond),
  };
}

/**
 * The `serverStats` dashboard, cluster-wide: each instance samples its own rates once a second (one sampler
 * shared by every dashboard subscriber) and reports them with its counts to the directory; a snapshot sums the
 * other instances' latest reports with this instance's current figures. When the directory cannot be read the
 * dashboard keeps going with this instance alone rather than failing. The same sampler feeds `dashboard`
 * (`onSample`), which also shows each instance's record (event-loop lag, RSS, active rooms).
 */
export function createServerStats({
  sources,
  directory,
  logger,
  rooms,
  instanceId = randomUUID(),
  sampleIntervalMs = 1_000,
}: ServerStatsOptions) {
  let last = { at: Date.now(), messages: sources.messagesIn(), deliveries: sources.deliveries() };
  let rates = { messagesPerSecond: 0, deliveriesPerSecond: 0 };
  // The delay histogram covers one interval at a time: reset at each sample, so a past stall does not linger.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  let sampled = { eventLoopLagMs: 0, rssBytes: process.memoryUsage.rss(), rooms: rooms?.sample() ?? [] };
  const local = (): InstanceFigures => ({ connections: sources.connections(), subscriptions: sources.subscriptions(), ...rates });
  const localRecord = (): InstanceReport => ({ instanceId, ...local(), ...sampled });
  const report = () =>
    directory
      .report(instanceId, localRecord() satisfies InstanceRecord)
      .catch((error: unknown) => logger.debug({ err: error }, 'serverStats report failed'));

  // The others report once per interval, so one read of the directory per interval serves every dashboard subscriber.
  let others: { readAt: number; reports: Promise<InstanceReport[]> } | null = null;
  const otherInstances = (): Promise<InstanceReport[]> => {
    const now = Date.now();
    if (others && now - others.readAt < sampleIntervalMs) return others.reports;
    const reports = directory.list().then(
      (entries) => entries.filter((entry) => entry.instanceId !== instanceId),
      (error: unknown) => {
        logger.debug({ err: error }, 'serverStats: instance directory unreadable; showing this instance only');
        return [];
      },
    );
    others = { readAt: now, reports };
    return reports;
  };

  const listeners = new Set<() => void>();
  const sampler = setInterval(() => {
    const now = { at: Date.now(), messages: sources.messagesIn(), deliveries: sources.deliveries() };
    const seconds = Math.max(0.001, (now.at - last.at) / 1000);
    rates = {
      messagesPerSecond: (now.messages - last.messages) / seconds,
      deliveriesPerSecond: (now.deliveries - last.deliveries) / seconds,
    };
    last = now;
    const lag = loopDelay.count > 0 ? loopDelay.percentile(99) / 1e6 : 0;
    loopDelay.reset();
    sampled = { eventLoopLagMs: lag, rssBytes: process.memoryUsage.rss(), rooms: rooms?.sample() ?? [] };
    void report();
    for (const listener of listeners) listener();
  }, sampleIntervalMs);
  sampler.unref();
  void report();

  return {
    instanceId,
    sampleIntervalMs,
    async snapshot(): Promise<ServerStatsSnapshot> {
      return sumFigures(new Date().toISOString(), [local(), ...(await otherInstances())]);
    },
    /** Every live instance's latest record, this one's (current counts) first. */
    async records(): Promise<InstanceReport[]> {
      return [localRecord(), ...(await otherInstances())];
    },
    /** Called after each sample (once per interval); returns the unsubscribe. */
    onSample(listener: () => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Stops sampling and takes this instance out of the directory (best effort: Redis may be gone). */
    stop(): Promise<void> {
      clearInterval(sampler);
      loopDelay.disable();
      listeners.clear();
      return directory.remove(instanceId).catch(() => undefined);
    },
  };
}

export type ServerStats = ReturnType<typeof createServerStats>;
