import { percentile } from '../generator/histogram.ts';
import type { RunRecord } from '../scenarios.ts';
import type { ServerKind } from '../servers.ts';

/** The figures reported per run; `null` where a scenario does not measure it. */
export interface Metrics {
  deliveriesPerSec: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  lost: number | null;
  duplicates: number | null;
  outOfOrder: number | null;
  bytesPerSocket: number | null;
  bytesPerDelivery: number | null;
  generatorCpuPct: number | null;
  serverCpuPct: number | null;
  rssPerSocketKiB: number | null;
  heapPerSocketKiB: number | null;
  catchUpMs: number | null;
  slowConsumerCloses: number | null;
}

export const METRIC_LABELS: Record<keyof Metrics, string> = {
  deliveriesPerSec: 'deliveries/s',
  p50Ms: 'p50 ms',
  p95Ms: 'p95 ms',
  p99Ms: 'p99 ms',
  maxMs: 'max ms',
  lost: 'lost',
  duplicates: 'dup',
  outOfOrder: 'out of order',
  bytesPerSocket: 'bytes/socket',
  bytesPerDelivery: 'bytes/delivery',
  generatorCpuPct: 'gen CPU %',
  serverCpuPct: 'server CPU %',
  rssPerSocketKiB: 'RSS KiB/socket',
  heapPerSocketKiB: 'live heap KiB/socket',
  catchUpMs: 'catch-up ms',
  slowConsumerCloses: '1013 closes',
};

/** A generator above this share of one core may be what limits the run, not the server. */
export const GENERATOR_BOUND_PCT = 90;

export function metricsOf(record: RunRecord): Metrics {
  const p = record.phase;
  const wall = p ? Math.max(p.durationMs, 1) : null;
  const pct = (v: number | null | undefined): number | null => (p && wall && v != null ? (100 * v) / wall : null);
  return {
    deliveriesPerSec: p && wall ? (p.deliveries * 1000) / wall : null,
    p50Ms: p ? percentile(p.latency, 50) : null,
    p95Ms: p ? percentile(p.latency, 95) : null,
    p99Ms: p ? percentile(p.latency, 99) : null,
    maxMs: p && p.latency.count ? p.latency.maxMs : null,
    lost: p ? p.lost : null,
    duplicates: p ? p.duplicates : null,
    outOfOrder: p ? p.outOfOrder + p.misrouted : null,
    bytesPerSocket: p && p.subscribers ? p.bytesReceived / p.subscribers : null,
    bytesPerDelivery: p && p.deliveries ? p.messageBytes / p.deliveries : null,
    generatorCpuPct: pct(p ? p.generatorCpuMs.user + p.generatorCpuMs.system : null),
    serverCpuPct: record.case.mode === 'idle' ? null : pct(record.serverCpuMs),
    rssPerSocketKiB: record.rssPerSocketKiB,
    heapPerSocketKiB: record.heapPerSocketKiB,
    catchUpMs: p?.catchUpMs ?? null,
    slowConsumerCloses: p ? (p.closes['1013'] ?? 0) : null,
  };
}

/** value / baseline, for the same case; null when either side is missing or the baseline is zero. */
export function ratio(value: number | null, baseline: number | null): number | null {
  if (value === null || baseline === null || !Number.isFinite(value) || !Number.isFinite(baseline) || baseline === 0) return null;
  return value / baseline;
}

export interface CaseSummary {
  label: string;
  records: RunRecord[];
  metrics: Map<ServerKind, Metrics>;
}

export function summarize(records: RunRecord[]): CaseSummary[] {
  const byLabel = new Map<string, CaseSummary>();
  for (const record of records) {
    const label = record.case.label;
    let summary = byLabel.get(label);
    if (!summary) byLabel.set(label, (summary = { label, records: [], metrics: new Map() }));
    summary.records.push(record);
    summary.metrics.set(record.server, metricsOf(record));
  }
  return [...byLabel.values()];
}
