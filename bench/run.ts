/**
 * `npm run bench`: every selected case, `--runs` times, each run alternating over the servers (project, raw,
 * project, raw, ...), then Markdown + JSON + SVG with the targets judged. Exits 1 when any run lost, duplicated or
 * reordered a delivery (or failed otherwise), so nothing wrong hides behind a figure.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { USAGE, parseCli } from './cli.ts';
import { pinningAvailable } from './processes.ts';
import { jsonReport, markdownReport } from './report/markdown.ts';
import { phaseMetrics, summarize, type Row } from './report/metrics.ts';
import { latencySvg } from './report/svg.ts';
import { evaluateTargets } from './report/targets.ts';
import { casesFor, phaseKey, runCase, runsOn, type RunRecord } from './scenarios.ts';
import { REPO_ROOT } from './servers.ts';

const options = parseCli(process.argv.slice(2));
if (options === 'help') {
  console.log(USAGE);
  process.exit(0);
}

const pinned = options.pin && pinningAvailable();
const startedAt = new Date().toISOString();
const caseOptions = {
  secret: randomBytes(32).toString('hex'),
  phaseSeconds: options.phaseSeconds,
  warmupSeconds: options.warmupSeconds,
  inflight: options.inflight,
  serverCore: pinned ? 0 : null,
  generatorCore: pinned ? 1 : null,
  openConcurrency: 200,
};

const f = (v: number | null, digits = 0): string => (v === null ? '?' : v.toLocaleString('en-US', { maximumFractionDigits: digits }));

function describe(record: RunRecord): string {
  if (record.error) return `FAILED: ${record.error.split('\n')[0]}`;
  const docs = record.phases[0]?.documents;
  if (record.case.mode === 'documents' && docs) {
    const p = record.phases[0] as (typeof record.phases)[number];
    const m = phaseMetrics(p);
    const seconds = Math.max(p.durationMs, 1) / 1000;
    return `\n    ${f(docs.editsCommitted / seconds, 1)} edits committed/s (${f(docs.localEdits)} keystrokes, ${f(docs.editsCommitted)} edits, ${f(docs.retries)} UNAVAILABLE resent), ${f(m.deliveriesPerSec)} deliveries/s to readers, CPU ${f(m.cpuUsPerMessage, 1)} µs/edit ${f(m.cpuUsPerDelivery, 2)} µs/delivery, p50 ${f(m.p50Ms, 1)} p99 ${f(m.p99Ms, 1)} ms; every reader got 1..${docs.finalVersion} once in order, ${docs.editors} editors converged`;
  }
  if (record.case.mode === 'idle')
    return `RSS ${f(record.rssPerSocketKiB, 1)} KiB/socket after GC, live heap ${f(record.heapPerSocketKiB, 1)} KiB/socket`;
  return record.phases
    .map((p) => {
      const m = phaseMetrics(p);
      return `\n    ${record.case.mode === 'storm' ? 'storm' : phaseKey(p.load)}: ${f(m.deliveriesPerSec)} deliveries/s, CPU ${f(m.cpuUsPerDelivery, 2)} µs/delivery ${f(m.cpuUsPerMessage, 1)} µs/message, p50 ${f(m.p50Ms, 1)} p99 ${f(m.p99Ms, 1)} ms, lost 0, dup 0, reordered 0${p.catchUpMs !== null ? `, catch-up ${f(p.catchUpMs)} ms` : ''}`;
    })
    .join('');
}

const records: RunRecord[] = [];
for (const scenario of options.scenarios) {
  for (const benchCase of casesFor(scenario, options)) {
    for (let run = 1; run <= options.runs; run++) {
      for (const server of options.servers.filter((kind) => runsOn(benchCase, kind))) {
        process.stdout.write(`${benchCase.label} / ${server} run ${run}/${options.runs} ... `);
        const record = await runCase(benchCase, server, run, caseOptions);
        records.push(record);
        console.log(describe(record));
      }
    }
  }
}

const outDir = resolve(REPO_ROOT, options.outDir);
mkdirSync(outDir, { recursive: true });
const stamp = startedAt.replace(/[:.]/g, '-');
const rows = summarize(records);
const targets = evaluateTargets(rows, records);
const svgFiles = new Map<Row, string>();
rows.forEach((row, i) => {
  const series = [...row.servers].flatMap(([name, s]) => (s.latency ? [{ name, latency: s.latency }] : []));
  if (!series.length) return;
  const file = `bench-${stamp}-${i + 1}.svg`;
  writeFileSync(join(outDir, file), latencySvg(`${row.case.scenario} ${row.phase}`, series));
  svgFiles.set(row, file);
});
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  if (execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim())
    commit += ' (with uncommitted changes)';
} catch {
  // not a git checkout
}
const cpu = cpus();
const ctx = {
  startedAt,
  machine: `${cpu.length} x ${cpu[0]?.model ?? 'cpu'}, node ${process.version}`,
  pinned,
  command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.replace(/ -- $/, '').trim(),
  commit,
  runs: options.runs,
  phaseSeconds: options.phaseSeconds,
  warmupSeconds: options.warmupSeconds,
  svgFiles,
};
const mdPath = join(outDir, `bench-${stamp}.md`);
writeFileSync(mdPath, markdownReport(rows, targets, records, ctx));
writeFileSync(join(outDir, `bench-${stamp}.json`), `${JSON.stringify(jsonReport(rows, targets, records, ctx), null, 2)}\n`);
console.log('\nTargets:');
for (const t of targets) console.log(`  ${t.pass === null ? 'n/a ' : t.pass ? 'PASS' : 'FAIL'}  ${t.target}: ${t.figure}`);
const failed = records.filter((r) => r.error);
if (failed.length) {
  console.error(`\n${failed.length} run(s) FAILED (see the report):`);
  for (const r of failed) console.error(`  ${r.case.label} / ${r.server} run ${r.run}: ${r.error}`);
}
console.log(`\nreport: ${mdPath}`);
process.exitCode = failed.length ? 1 : 0;
