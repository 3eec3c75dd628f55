/**
 * Log-bucketed latency histogram: fixed memory whatever the delivery count, and plain JSON so it crosses the
 * IPC channel from the generator process. 2% bucket width bounds the percentile error at 2%.
 */
const MIN_MS = 0.01;
const GROWTH = 1.02;
const BUCKETS = 1_000;
const LOG_GROWTH = Math.log(GROWTH);

export interface Histogram {
  counts: number[];
  count: number;
  sumMs: number;
  minMs: number;
  maxMs: number;
}

export function createHistogram(): Histogram {
  return { counts: new Array<number>(BUCKETS).fill(0), count: 0, sumMs: 0, minMs: Infinity, maxMs: 0 };
}

export function recordLatency(h: Histogram, ms: number): void {
  const value = Math.max(ms, 0);
  const index = value <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(value / MIN_MS) / LOG_GROWTH));
  h.counts[index] = (h.counts[index] ?? 0) + 1;
  h.count += 1;
  h.sumMs += value;
  if (value < h.minMs) h.minMs = value;
  if (value > h.maxMs) h.maxMs = value;
}

export function bucketUpperMs(index: number): number {
  return MIN_MS * GROWTH ** index;
}

/** Upper bound of the bucket holding the p-th percentile (0..100), clamped to the true max. */
export function percentile(h: Histogram, p: number): number {
  if (h.count === 0) return NaN;
  const rank = Math.ceil((p / 100) * h.count);
  let seen = 0;
  for (let i = 0; i < h.counts.length; i++) {
    seen += h.counts[i] ?? 0;
    if (seen >= rank) return Math.min(bucketUpperMs(i), h.maxMs);
  }
  return h.maxMs;
}

/** Points of the cumulative distribution, one per non-empty bucket: [latency ms, fraction <= it]. */
export function cdf(h: Histogram): Array<[number, number]> {
  const points: Array<[number, number]> = [];
  let seen = 0;
  h.counts.forEach((n, i) => {
    if (!n) return;
    seen += n;
    points.push([Math.min(bucketUpperMs(i), h.maxMs), seen / h.count]);
  });
  return points;
}
