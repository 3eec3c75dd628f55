import { cdf, type Histogram } from '../generator/histogram.ts';

const WIDTH = 720;
const HEIGHT = 380;
const PAD = { left: 60, right: 150, top: 36, bottom: 48 };
const COLORS: Record<string, string> = { raw: '#2b8a3e', yoga: '#1c7ed6', project: '#e8590c' };

const escape = (text: string): string => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Latency CDF per server on a log-scale x axis: the tail (p99, max) is where fan-out servers differ, and a
 * linear axis would squeeze the whole body of the distribution into one pixel column.
 */
export function latencySvg(title: string, histograms: ReadonlyArray<{ name: string; latency: Histogram }>): string {
  const series = histograms.flatMap((h) => (h.latency.count > 0 ? [{ name: h.name, points: cdf(h.latency) }] : []));
  const all = series.flatMap((s) => s.points.map(([ms]) => ms));
  const minMs = Math.max(0.01, Math.min(...all, 1));
  const maxMs = Math.max(...all, minMs * 10);
  const lo = Math.floor(Math.log10(minMs));
  const hi = Math.ceil(Math.log10(maxMs));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (ms: number): number => PAD.left + ((Math.log10(Math.max(ms, minMs)) - lo) / Math.max(hi - lo, 1)) * plotW;
  const y = (fraction: number): number => PAD.top + (1 - fraction) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${PAD.left}" y="20" font-size="14" font-weight="bold">${escape(title)}: delivery latency CDF</text>`,
  ];
  for (let e = lo; e <= hi; e++) {
    const gx = x(10 ** e);
    parts.push(`<line x1="${gx}" y1="${PAD.top}" x2="${gx}" y2="${PAD.top + plotH}" stroke="#ddd"/>`);
    parts.push(`<text x="${gx}" y="${PAD.top + plotH + 16}" text-anchor="middle">${10 ** e >= 1 ? 10 ** e : (10 ** e).toFixed(-e)}</text>`);
  }
  for (const f of [0, 0.5, 0.9, 0.99, 1]) {
    const gy = y(f);
    parts.push(`<line x1="${PAD.left}" y1="${gy}" x2="${PAD.left + plotW}" y2="${gy}" stroke="#eee"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${gy + 4}" text-anchor="end">${f * 100}%</text>`);
  }
  parts.push(`<text x="${PAD.left + plotW / 2}" y="${HEIGHT - 10}" text-anchor="middle">latency, ms (log scale)</text>`);
  parts.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`);
  series.forEach((s, i) => {
    const color = COLORS[s.name] ?? '#666';
    // A CDF is a step function: hold each fraction until the next bucket edge.
    let previous = 0;
    const d = s.points
      .map(([ms, f], j) => {
        const step = `${j === 0 ? 'M' : 'L'}${x(ms).toFixed(1)},${y(previous).toFixed(1)} L${x(ms).toFixed(1)},${y(f).toFixed(1)}`;
        previous = f;
        return step;
      })
      .join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    const ly = PAD.top + 16 + i * 20;
    parts.push(
      `<line x1="${PAD.left + plotW + 12}" y1="${ly - 4}" x2="${PAD.left + plotW + 32}" y2="${ly - 4}" stroke="${color}" stroke-width="3"/>`,
    );
    parts.push(`<text x="${PAD.left + plotW + 38}" y="${ly}">${escape(s.name)}</text>`);
  });
  if (!series.length) parts.push(`<text x="${PAD.left + 20}" y="${PAD.top + 40}">no latency samples</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}
