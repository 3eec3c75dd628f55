import type { RunRecord } from '../scenarios.ts';
import type { ServerKind } from '../servers.ts';
import { GENERATOR_BOUND_PCT, METRIC_LABELS, ratio, type CaseSummary, type Metrics } from './metrics.ts';

export interface ReportContext {
  startedAt: string;
  machine: string;
  pinned: boolean;
  command: string;
  svgFiles: Map<string, string>;
}

const COLUMNS: Array<keyof Metrics> = Object.keys(METRIC_LABELS) as Array<keyof Metrics>;
/** Lower is better for these, so a ratio above 1 is a cost; for deliveries/s a ratio below 1 is. */
const HIGHER_IS_BETTER = new Set<keyof Metrics>(['deliveriesPerSec']);

function fmt(value: number | null): string {
  if (value === null || Number.isNaN(value)) return '–';
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  const abs = Math.abs(value);
  return value.toLocaleString('en-US', { maximumFractionDigits: abs >= 100 ? 0 : abs >= 10 ? 1 : 2 });
}

const fmtRatio = (r: number | null): string => (r === null ? '–' : `${r.toFixed(2)}×`);

function usedColumns(summary: CaseSummary): Array<keyof Metrics> {
  return COLUMNS.filter((c) => [...summary.metrics.values()].some((m) => m[c] !== null));
}

function valueTable(summary: CaseSummary, columns: Array<keyof Metrics>): string[] {
  const lines = [`| server | ${columns.map((c) => METRIC_LABELS[c]).join(' | ')} |`, `|---|${columns.map(() => '---:').join('|')}|`];
  for (const record of summary.records) {
    const m = summary.metrics.get(record.server);
    const name = record.instances > 1 ? `${record.server} (${record.instances} inst.)` : record.server;
    lines.push(`| ${name} | ${columns.map((c) => (m ? fmt(m[c]) : '–')).join(' | ')} |`);
  }
  return lines;
}

function ratioTable(summary: CaseSummary, columns: Array<keyof Metrics>): string[] {
  const raw = summary.metrics.get('raw');
  const yoga = summary.metrics.get('yoga');
  if (!raw && !yoga) return [];
  const lines = [
    '',
    'Ratios, `vs raw / vs yoga-stock` (deliveries/s: below 1× is slower; every other column: above 1× is more):',
    '',
    `| server | ${columns.map((c) => METRIC_LABELS[c]).join(' | ')} |`,
    `|---|${columns.map(() => '---:').join('|')}|`,
  ];
  for (const [server, m] of summary.metrics) {
    const cells = columns.map((c) => `${fmtRatio(ratio(m[c], raw?.[c] ?? null))} / ${fmtRatio(ratio(m[c], yoga?.[c] ?? null))}`);
    lines.push(`| ${server} | ${cells.join(' | ')} |`);
  }
  return lines;
}

function notes(summary: CaseSummary): string[] {
  const out: string[] = [];
  for (const r of summary.records) {
    const m = summary.metrics.get(r.server);
    if (r.error) out.push(`- **${r.server}: failed**: ${r.error.split('\n')[0]}`);
    if (r.setup && (r.setup.failed || r.setup.unprobed)) out.push(`- ${r.server}: ${r.setup.failed} sockets failed to open, ${r.setup.unprobed} never saw a probe (${r.setup.errorSample ?? ''})`);
    if (r.setup) out.push(`- ${r.server}: opened ${r.setup.opened} sockets in ${fmt(r.setup.openMs)} ms, probe rounds ${r.setup.probeRounds}`);
    const p = r.phase;
    if (!p) continue;
    if (p.publishErrors) out.push(`- ${r.server}: ${p.publishErrors} sendMessage errors, e.g. ${p.publishErrorSample ?? ''}`);
    if (!p.drained) out.push(`- ${r.server}: **did not drain**: ${p.deliveries} of ${p.expectedDeliveries} deliveries before the wait ended`);
    if (Object.keys(p.closes).length) out.push(`- ${r.server}: server-side closes ${JSON.stringify(p.closes)}`);
    const bad = Object.entries(p.otherFrames).filter(([type]) => type === 'error' || type === 'unparsable');
    if (bad.length) out.push(`- ${r.server}: unexpected frames ${JSON.stringify(Object.fromEntries(bad))}`);
    if (p.reconnectFailures) out.push(`- ${r.server}: ${p.reconnectFailures} reconnects failed`);
    if (m?.generatorCpuPct != null && m.generatorCpuPct > GENERATOR_BOUND_PCT) out.push(`- ${r.server}: generator at ${fmt(m.generatorCpuPct)}% of a core: **generator-bound**, the server may be faster than shown`);
  }
  return out;
}

export function markdownReport(summaries: readonly CaseSummary[], ctx: ReportContext): string {
  const lines: string[] = [
    '# Fan-out benchmark',
    '',
    `- started: ${ctx.startedAt}`,
    `- machine: ${ctx.machine}`,
    `- pinning: ${ctx.pinned ? 'servers (and Redis) on core 0, generator on core 1 (taskset)' : 'none (no taskset or one core): server and generator compete'}`,
    `- command: \`${ctx.command}\``,
    '',
    'Latency: sender timestamp in the body to receipt by each subscriber (includes the HTTP mutation). Deliveries/s: deliveries over first send to last delivery. CPU %: share of one core over that same window.',
  ];
  for (const summary of summaries) {
    const columns = usedColumns(summary);
    lines.push('', `## ${summary.label}`, '', ...valueTable(summary, columns), ...ratioTable(summary, columns));
    const svg = ctx.svgFiles.get(summary.label);
    if (svg) lines.push('', `![latency ${summary.label}](${svg})`);
    const n = notes(summary);
    if (n.length) lines.push('', ...n);
  }
  return `${lines.join('\n')}\n`;
}

export function jsonReport(records: readonly RunRecord[], summaries: readonly CaseSummary[], ctx: ReportContext): unknown {
  return {
    startedAt: ctx.startedAt,
    machine: ctx.machine,
    pinned: ctx.pinned,
    command: ctx.command,
    cases: summaries.map((s) => ({
      label: s.label,
      metrics: Object.fromEntries(s.metrics) as Partial<Record<ServerKind, Metrics>>,
    })),
    runs: records,
  };
}
