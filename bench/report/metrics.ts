import { createHistogram, percentile, type Histogram } from '../generator/histogram.ts';
import type { PhaseResult } from '../generator/generator.ts';
import { phaseKey, type BenchCase, type RunRecord } from '../scenarios.ts';
import type { ServerKind } from '../servers.ts';

/** The figures reported per run and phase; `null` where a scenario does not measure it. */
export interface Metrics {
  offeredPerSec: number | null;
  /** Documents: edits committed per second (versions over first keystroke to last delivery). */
  editsPerSec: number | null;
  deliveriesPerSec: number | null;
  cpuUsPerDelivery: number | null;
  cpuUsPerMessage: number | null;
  redisCpuUsPerDelivery: number | null;
  serverCpuPct: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  bytesPerDelivery: number | null;
  generatorCpuPct: number | null;
  catchUpMs: number | null;
  rssPerSocketKiB: number | null;
  heapPerSocketKiB: number | null;
}

export const METRIC_LABELS: Record<keyof Metrics, string> = {
  offeredPerSec: 'offered deliveries/s',
  editsPerSec: 'edits committed/s',
  deliveriesPerSec: 'deliveries/s',
  cpuUsPerDelivery: 'server CPU µs/delivery',
  cpuUsPerMessage: 'server CPU µs/message',
  redisCpuUsPerDelivery: 'Redis CPU µs/delivery',
  serverCpuPct: 'server CPU %',
  p50Ms: 'p50 ms',
  p99Ms: 'p99 ms',
  maxMs: 'max ms',
  bytesPerDelivery: 'bytes/delivery',
  generatorCpuPct: 'gen CPU %',
  catchUpMs: 'catch-up ms',
  rssPerSocketKiB: 'RSS KiB/socket (after GC)',
  heapPerSocketKiB: 'live heap KiB/socket',
};

/** A generator above this share of one core may be what limits the run, not the server. */
export const GENERATOR_BOUND_PCT = 90;

const EMPTY: Metrics = {
  offeredPerSec: null,
  editsPerSec: null,
  deliveriesPerSec: null,
  cpuUsPerDelivery: null,
  cpuUsPerMessage: null,
  redisCpuUsPerDelivery: null,
  serverCpuPct: null,
  p50Ms: null,
  p99Ms: null,
  maxMs: null,
  bytesPerDelivery: null,
  generatorCpuPct: null,
  catchUpMs: null,
  rssPerSocketKiB: null,
  heapPerSocketKiB: null,
};

export function phaseMetrics(p: PhaseResult): Metrics {
  const wall = Math.max(p.durationMs, 1);
  const perDelivery = (ms: number | null): number | null => (ms !== null && p.deliveries ? (ms * 1000) / p.deliveries : null);
  return {
    ...EMPTY,
    offeredPerSec: p.offeredDeliveriesPerSec,
    editsPerSec: p.documents ? (p.documents.editsCommitted * 1000) / wall : null,
    deliveriesPerSec: (p.deliveries * 1000) / wall,
    cpuUsPerDelivery: perDelivery(p.serverCpuMs),
    cpuUsPerMessage: p.serverCpuMs !== null && p.messagesSent ? (p.serverCpuMs * 1000) / p.messagesSent : null,
    redisCpuUsPerDelivery: perDelivery(p.redisCpuMs),
    serverCpuPct: p.serverCpuMs !== null ? (100 * p.serverCpuMs) / Math.max(p.wallMs, 1) : null,
    p50Ms: percentile(p.latency, 50),
    p99Ms: percentile(p.latency, 99),
    maxMs: p.latency.count ? p.latency.maxMs : null,
    bytesPerDelivery: p.deliveries ? p.messageBytes / p.deliveries : null,
    generatorCpuPct: (100 * p.generatorCpuMs) / Math.max(p.wallMs, 1),
    catchUpMs: p.catchUpMs,
  };
}

export function idleMetrics(r: RunRecord): Metrics {
  return { ...EMPTY, rssPerSocketKiB: r.rssPerSocketKiB, heapPerSocketKiB: r.heapPerSocketKiB };
}

/** value / baseline; null when either side is missing or the baseline is zero. */
export function ratio(value: number | null, baseline: number | null): number | null {
  if (value === null || baseline === null || !Number.isFinite(value) || !Number.isFinite(baseline) || baseline === 0) return null;
  return value / baseline;
}

export function median(values: ReadonlyArray<number | null>): number | null {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  if (!xs.length) return null;
  const mid = xs.length >> 1;
  return xs.length % 2 ? (xs[mid] as number) : ((xs[mid - 1] as number) + (xs[mid] as number)) / 2;
}

const KEYS = Object.keys(EMPTY) as Array<keyof Metrics>;

export interface ServerRow {
  /** Per run number; a failed run has no metrics. */
  runs: Map<number, Metrics>;
  failedRuns: number[];
  median: Metrics;
  /** Median over runs of (this server's figure / raw's figure in the same run number). */
  ratioToRaw: Metrics;
  /** Every run's latency merged, for the CDF chart. */
  latency: Histogram | null;
}

/** One line of the report: a case and one of its phases (or `idle`/`storm`). */
export interface Row {
  case: BenchCase;
  phase: string;
  servers: Map<ServerKind, ServerRow>;
}

function mergeInto(target: Histogram, h: Histogram): void {
  h.counts.forEach((n, i) => (target.counts[i] = (target.counts[i] ?? 0) + n));
  target.count += h.count;
  target.sumMs += h.sumMs;
  target.minMs = Math.min(target.minMs, h.minMs);
  target.maxMs = Math.max(target.maxMs, h.maxMs);
}

/** Rows per case and phase, with medians of the runs and ratios to raw taken within each run, then the median. */
export function summarize(records: readonly RunRecord[]): Row[] {
  const rows = new Map<string, Row>();
  const rowFor = (benchCase: BenchCase, phase: string): Row => {
    const key = `${benchCase.label}\u0000${phase}`;
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { case: benchCase, phase, servers: new Map() }));
    return row;
  };
  const serverRow = (row: Row, server: ServerKind): ServerRow => {
    let s = row.servers.get(server);
    if (!s) row.servers.set(server, (s = { runs: new Map(), failedRuns: [], median: EMPTY, ratioToRaw: EMPTY, latency: null }));
    return s;
  };
  for (const record of records) {
    const entries: Array<[string, Metrics, Histogram | null]> =
      record.case.mode === 'idle'
        ? [['idle', idleMetrics(record), null]]
        : record.phases.map((p) => [record.case.mode === 'storm' ? 'storm' : phaseKey(p.load), phaseMetrics(p), p.latency]);
    const expected =
      record.case.mode === 'idle'
        ? ['idle']
        : record.case.mode === 'storm'
          ? ['storm']
          : record.case.mode === 'documents'
            ? [
                phaseKey({
                  kind: 'edits',
                  editors: record.case.editors,
                  editsPerSec: record.case.editsPerSec,
                  readers: record.case.subscribersPerRoom,
                }),
              ]
            : [
                ...record.case.rates.map((r) => phaseKey({ kind: 'rate', deliveriesPerSec: r })),
                ...(record.case.saturate ? ['saturated'] : []),
              ];
    for (const phase of expected) {
      const s = serverRow(rowFor(record.case, phase), record.server);
      const entry = record.error ? undefined : entries.find(([key]) => key === phase);
      if (!entry) {
        s.failedRuns.push(record.run);
        continue;
      }
      s.runs.set(record.run, entry[1]);
      if (entry[2]) mergeInto((s.latency ??= createHistogram()), entry[2]);
    }
  }
  for (const row of rows.values()) {
    const raw = row.servers.get('raw');
    for (const s of row.servers.values()) {
      const runs = [...s.runs.values()];
      s.median = Object.fromEntries(KEYS.map((k) => [k, median(runs.map((m) => m[k]))])) as unknown as Metrics;
      s.ratioToRaw = Object.fromEntries(
        KEYS.map((k) => [k, raw ? median([...s.runs].map(([run, m]) => ratio(m[k], raw.runs.get(run)?.[k] ?? null))) : null]),
      ) as unknown as Metrics;
    }
  }
  return [...rows.values()];
}

export type { ServerKind };
