import { randomUUID } from 'node:crypto';
import type { Logger } from '../chat/logger.ts';
import type { InstanceDirectory, InstanceFigures } from './instance-directory.ts';
import type { MetricSources } from './metrics.ts';

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
  /** @default a random UUID */
  instanceId?: string;
  /** How often rates are sampled and this instance's figures reported to the directory. @default 1_000 */
  sampleIntervalMs?: number;
}

/**
 * The `serverStats` dashboard, cluster-wide: each instance samples its own rates once a second (one sampler
 * shared by every dashboard subscriber) and reports them with its counts to the directory; a snapshot sums the
 * other instances' latest reports with this instance's current figures. When the directory cannot be read the
 * dashboard keeps going with this instance alone rather than failing.
 */
export function createServerStats({ sources, directory, logger, instanceId = randomUUID(), sampleIntervalMs = 1_000 }: ServerStatsOptions) {
  let last = { at: Date.now(), messages: sources.messagesIn(), deliveries: sources.deliveries() };
  let rates = { messagesPerSecond: 0, deliveriesPerSecond: 0 };
  const local = (): InstanceFigures => ({ connections: sources.connections(), subscriptions: sources.subscriptions(), ...rates });
  const report = () =>
    directory.report(instanceId, local()).catch((error: unknown) => logger.debug({ err: error }, 'serverStats report failed'));

  // The others report once per interval, so one read of the directory per interval serves every dashboard subscriber.
  let others: { readAt: number; reports: Promise<InstanceFigures[]> } | null = null;
  const otherInstances = (): Promise<InstanceFigures[]> => {
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

  const sampler = setInterval(() => {
    const now = { at: Date.now(), messages: sources.messagesIn(), deliveries: sources.deliveries() };
    const seconds = Math.max(0.001, (now.at - last.at) / 1000);
    rates = {
      messagesPerSecond: (now.messages - last.messages) / seconds,
      deliveriesPerSecond: (now.deliveries - last.deliveries) / seconds,
    };
    last = now;
    void report();
  }, sampleIntervalMs);
  sampler.unref();
  void report();

  return {
    instanceId,
    async snapshot(): Promise<ServerStatsSnapshot> {
      const all = [local(), ...(await otherInstances())];
      const sum = (pick: (figures: InstanceFigures) => number) => all.reduce((total, figures) => total + pick(figures), 0);
      return {
        at: new Date().toISOString(),
        instances: all.length,
        connections: sum((f) => f.connections),
        subscriptions: sum((f) => f.subscriptions),
        messagesPerSecond: sum((f) => f.messagesPerSecond),
        deliveriesPerSecond: sum((f) => f.deliveriesPerSecond),
      };
    },
    /** Stops sampling and takes this instance out of the directory (best effort: Redis may be gone). */
    stop(): Promise<void> {
      clearInterval(sampler);
      return directory.remove(instanceId).catch(() => undefined);
    },
  };
}
