/** `npm run bench`: every selected scenario against every selected server, then Markdown + JSON + SVG. */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { USAGE, parseCli } from './cli.ts';
import { pinningAvailable } from './processes.ts';
import { jsonReport, markdownReport } from './report/markdown.ts';
import { metricsOf, summarize } from './report/metrics.ts';
import { latencySvg } from './report/svg.ts';
import { casesFor, runCase, type RunRecord } from './scenarios.ts';
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
  users: options.users,
  inflight: options.inflight,
  serverCore: pinned ? 0 : null,
  generatorCore: pinned ? 1 : null,
  openConcurrency: 200,
};

const records: RunRecord[] = [];
for (const scenario of options.scenarios) {
  for (const benchCase of casesFor(scenario, options)) {
    for (const server of options.servers) {
      process.stdout.write(`${benchCase.label} / ${server} ... `);
      const record = await runCase(benchCase, server, caseOptions);
      records.push(record);
      const m = metricsOf(record);
      const figures = record.error
        ? `FAILED: ${record.error.split('\n')[0]}`
        : record.case.mode === 'idle'
          ? `RSS ${m.rssPerSocketKiB?.toFixed(1) ?? '?'} KiB/socket, live heap ${m.heapPerSocketKiB?.toFixed(1) ?? '?'} KiB/socket`
          : `${Math.round(m.deliveriesPerSec ?? 0)} deliveries/s, p99 ${m.p99Ms?.toFixed(1)} ms, lost ${m.lost}, dup ${m.duplicates}${m.catchUpMs !== null ? `, catch-up ${Math.round(m.catchUpMs)} ms` : ''}`;
      console.log(figures);
    }
  }
}

const outDir = resolve(REPO_ROOT, options.outDir);
mkdirSync(outDir, { recursive: true });
const stamp = startedAt.replace(/[:.]/g, '-');
const summaries = summarize(records);
const svgFiles = new Map<string, string>();
summaries.forEach((summary, i) => {
  if (!summary.records.some((r) => r.phase)) return;
  const file = `bench-${stamp}-${i + 1}.svg`;
  writeFileSync(join(outDir, file), latencySvg(summary.label, summary.records));
  svgFiles.set(summary.label, file);
});
const cpu = cpus();
const ctx = {
  startedAt,
  machine: `${cpu.length} x ${cpu[0]?.model ?? 'cpu'}, node ${process.version}`,
  pinned,
  command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
  svgFiles,
};
const mdPath = join(outDir, `bench-${stamp}.md`);
writeFileSync(mdPath, markdownReport(summaries, ctx));
writeFileSync(join(outDir, `bench-${stamp}.json`), `${JSON.stringify(jsonReport(records, summaries, ctx), null, 2)}\n`);
console.log(`\nreport: ${mdPath}`);
process.exitCode = records.some((r) => r.error) ? 1 : 0;
