import type { RunRecord } from '../scenarios.ts';
import { GENERATOR_BOUND_PCT, METRIC_LABELS, type Metrics, type Row } from './metrics.ts';
import type { TargetResult } from './targets.ts';

export interface ReportContext {
  startedAt: string;
  machine: string;
  pinned: boolean;
  command: string;
  commit: string;
  runs: number;
  phaseSeconds: number;
  warmupSeconds: number;
  svgFiles: Map<Row, string>;
}

/** Lower is better for everything but these, so a ratio above 1 is a cost; for these a ratio below 1 is. */
const HIGHER_IS_BETTER = new Set<keyof Metrics>(['deliveriesPerSec', 'editsPerSec']);
/** Shown as measured, never as a ratio (the load, not the server). */
const NO_RATIO = new Set<keyof Metrics>(['offeredPerSec', 'generatorCpuPct']);

function fmt(value: number | null): string {
  if (value === null || Number.isNaN(value)) return '–';
  const abs = Math.abs(value);
  return value.toLocaleString('en-US', { maximumFractionDigits: abs >= 100 ? 0 : abs >= 10 ? 1 : 2 });
}

const fmtRatio = (r: number | null): string => (r === null ? '–' : `${r.toFixed(2)}x`);

function columnsOf(row: Row): Array<keyof Metrics> {
  return (Object.keys(METRIC_LABELS) as Array<keyof Metrics>).filter((k) => [...row.servers.values()].some((s) => s.median[k] !== null));
}

function rowTable(row: Row, runs: number): string[] {
  const columns = columnsOf(row);
  const ratioColumns = columns.filter((c) => !NO_RATIO.has(c));
  const lines = [
    `### ${row.phase}`,
    '',
    `| server | runs | ${columns.map((c) => METRIC_LABELS[c]).join(' | ')} |`,
    `|---|---:|${columns.map(() => '---:').join('|')}|`,
  ];
  for (const [server, s] of row.servers) {
    lines.push(`| ${server} | ${s.runs.size}/${runs} | ${columns.map((c) => fmt(s.median[c])).join(' | ')} |`);
  }
  const others = [...row.servers].filter(([server]) => server !== 'raw');
  if (row.servers.has('raw') && others.length && ratioColumns.length) {
    lines.push(
      '',
      `Ratio to raw, taken within each run, median of runs (${
        ratioColumns
          .filter((c) => HIGHER_IS_BETTER.has(c))
          .map((c) => METRIC_LABELS[c])
          .join(', ') || 'nothing here'
      }: below 1x is worse; every other column: above 1x is worse):`,
      '',
      `| server | ${ratioColumns.map((c) => METRIC_LABELS[c]).join(' | ')} |`,
      `|---|${ratioColumns.map(() => '---:').join('|')}|`,
      ...others.map(([server, s]) => `| ${server} | ${ratioColumns.map((c) => fmtRatio(s.ratioToRaw[c])).join(' | ')} |`),
    );
  }
  return lines;
}

function notes(records: readonly RunRecord[]): string[] {
  const out: string[] = [];
  if (records.some((r) => r.case.mode === 'documents')) {
    out.push(
      '- the project alone: the raw and yoga baselines have no documents, so there is no ratio. Deliveries are DocumentEdited frames at the readers; server CPU µs/message is per committed edit; latency is from editDocument sent to its receipt at each reader. Every reader got versions 1..N once and in order, and every editor converged to `document { text version }`, or the run FAILED.',
    );
  }
  for (const r of records) {
    const tag = `${r.server} run ${r.run}`;
    if (r.error) out.push(`- **${tag} FAILED**: ${r.error.split('\n')[0]}`);
    if (r.setup)
      out.push(
        `- ${tag}: opened ${r.setup.opened.toLocaleString('en-US')} sockets in ${fmt(r.setup.openMs)} ms, probe rounds ${r.setup.probeRounds}`,
      );
    for (const p of r.phases) {
      const genPct = (100 * p.generatorCpuMs) / Math.max(p.wallMs, 1);
      if (genPct > GENERATOR_BOUND_PCT)
        out.push(`- ${tag}: generator at ${fmt(genPct)}% of a core: **generator-bound**, the server may be faster than shown`);
      const achieved = (p.deliveries * 1000) / Math.max(p.durationMs, 1);
      if (p.offeredDeliveriesPerSec !== null && achieved < 0.9 * p.offeredDeliveriesPerSec) {
        out.push(
          `- ${tag}: ${fmt(p.offeredDeliveriesPerSec)} deliveries/s offered, ${fmt(achieved)} delivered: it did not keep up (or the machine did not), so latency there is mostly backlog`,
        );
      }
      if (p.documents)
        out.push(
          `- ${tag}: ${fmt(p.documents.localEdits)} keystrokes, ${fmt(p.documents.editsCommitted)} edits committed (final version ${p.documents.finalVersion}, ${fmt(p.documents.finalChars)} characters), ${fmt(p.documents.retries)} UNAVAILABLE answers resent with the same clientEditId`,
        );
      if (p.maxSendLagMs > 50)
        out.push(
          `- ${tag}: the publisher fell ${fmt(p.maxSendLagMs)} ms behind its schedule (generator lag; latency still counts from the schedule)`,
        );
    }
  }
  return out;
}

export function markdownReport(
  rows: readonly Row[],
  targets: readonly TargetResult[],
  records: readonly RunRecord[],
  ctx: ReportContext,
): string {
  const lines: string[] = [
    '# Fan-out benchmark',
    '',
    `- started: ${ctx.startedAt}; commit ${ctx.commit}`,
    `- machine: ${ctx.machine}`,
    `- pinning: ${ctx.pinned ? 'servers and Redis on core 0, generator on core 1 (taskset)' : 'none (no taskset or one core): server and generator compete'}`,
    `- command: \`${ctx.command}\``,
    `- ${ctx.runs} alternating run(s) per case (project, raw, project, raw, ...), ${ctx.phaseSeconds} s phases after a ${ctx.warmupSeconds} s warm-up; figures are medians of the runs, ratios are taken within a run, then the median`,
    '',
    "Every subscriber is its own user (presence on) and subscribes under a random operation id, as graphql-ws clients do. Rate phases: the publisher sends on a fixed schedule (open loop); latency is from each message's scheduled send time to its receipt, so a server that falls behind shows it (no coordinated omission). Server CPU is the server process's utime + stime (/proc) over the phase, divided by deliveries (and by messages). Saturated: closed loop, `--inflight` mutations in flight; deliveries/s over first send to last delivery. Raw `ws` takes the same mutations over the same transport and verifies a token once per connection.",
    '',
    '## Targets',
    '',
    '| target | figure (medians) | result |',
    '|---|---|---|',
    ...targets.map((t) => `| ${t.target} | ${t.figure} | ${t.pass === null ? 'not measured' : t.pass ? 'PASS' : '**FAIL**'} |`),
  ];
  const cases = [...new Set(rows.map((r) => r.case.label))];
  for (const label of cases) {
    lines.push('', `## ${label}`);
    for (const row of rows.filter((r) => r.case.label === label)) {
      lines.push('', ...rowTable(row, ctx.runs));
      const svg = ctx.svgFiles.get(row);
      if (svg) lines.push('', `![latency ${label} ${row.phase}](${svg})`);
    }
    const n = notes(records.filter((r) => r.case.label === label));
    if (n.length) lines.push('', ...n);
  }
  return `${lines.join('\n')}\n`;
}

export function jsonReport(
  rows: readonly Row[],
  targets: readonly TargetResult[],
  records: readonly RunRecord[],
  ctx: ReportContext,
): unknown {
  return {
    startedAt: ctx.startedAt,
    commit: ctx.commit,
    machine: ctx.machine,
    pinned: ctx.pinned,
    command: ctx.command,
    targets,
    rows: rows.map((row) => ({
      case: row.case.label,
      phase: row.phase,
      servers: Object.fromEntries(
        [...row.servers].map(([server, s]) => [server, { median: s.median, ratioToRaw: s.ratioToRaw, failedRuns: s.failedRuns }]),
      ),
    })),
    runs: records,
  };
}
