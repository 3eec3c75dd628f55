import { phaseKey, type BenchCase, type RunRecord } from '../scenarios.ts';
import type { Metrics, Row } from './metrics.ts';

/** One of issue 11's targets, as measured: `pass` is null when the run did not measure it. */
export interface TargetResult {
  target: string;
  case: string;
  figure: string;
  pass: boolean | null;
}

/** Which document and mutation transport a case used: targets can be judged on several of each. */
const how = (c: BenchCase): string => `, ${c.document} document, sendMessage over ${c.transport.toUpperCase()}`;
const x = (v: number | null): string => (v === null ? '–' : `${v.toFixed(2)}x`);
const num = (v: number | null, digits = 1): string => (v === null ? '–' : v.toLocaleString('en-US', { maximumFractionDigits: digits }));

function projectFigure(row: Row, key: keyof Metrics): { value: number | null; ratio: number | null; raw: number | null } {
  const project = row.servers.get('project');
  return { value: project?.median[key] ?? null, ratio: project?.ratioToRaw[key] ?? null, raw: row.servers.get('raw')?.median[key] ?? null };
}

/** A failed run of the project or raw in a row fails its target: nothing is judged on the runs that survived. */
const failed = (row: Row): boolean => [...row.servers.values()].some((s) => s.failedRuns.length > 0);

function atMost(ratio: number | null, bound: number, row: Row): boolean | null {
  if (failed(row)) return false;
  return ratio === null ? null : ratio <= bound;
}

export function evaluateTargets(rows: readonly Row[], records: readonly RunRecord[]): TargetResult[] {
  const out: TargetResult[] = [];
  for (const row of rows) {
    const c = row.case;
    if ((c.scenario === 'rooms-redis' || c.scenario === 'rooms-memory') && row.phase === 'saturated') {
      const bound = c.scenario === 'rooms-redis' ? 0.5 : 0.7;
      const f = projectFigure(row, 'deliveriesPerSec');
      out.push({
        target: `${c.rooms} rooms x ${c.subscribersPerRoom}, ${c.redis ? 'Redis on' : 'in memory'}${how(c)}: deliveries/s >= ${bound}x raw`,
        case: c.label,
        figure: `${x(f.ratio)} (${num(f.value, 0)} vs raw ${num(f.raw, 0)} deliveries/s)`,
        pass: failed(row) ? false : f.ratio === null ? null : f.ratio >= bound,
      });
    }
    if (c.scenario === 'room1000' && c.document === 'fragment') {
      const top = Math.max(...c.rates);
      if (row.phase !== phaseKey({ kind: 'rate', deliveriesPerSec: top })) continue;
      const cpu = projectFigure(row, 'cpuUsPerDelivery');
      const p99 = projectFigure(row, 'p99Ms');
      const at = `at ${top.toLocaleString('en-US')} deliveries/s offered${top === 40_000 ? '' : ' (the target says 40,000)'}`;
      out.push({
        target: `1 room x ${c.subscribersPerRoom}, random ids${how(c)}: server CPU per delivery <= 1.2x raw ${at}`,
        case: c.label,
        figure: `${x(cpu.ratio)} (${num(cpu.value, 2)} vs raw ${num(cpu.raw, 2)} µs)`,
        pass: atMost(cpu.ratio, 1.2, row),
      });
      out.push({
        target: `1 room x ${c.subscribersPerRoom}, random ids${how(c)}: p99 <= 1.3x raw ${at}`,
        case: c.label,
        figure: `${x(p99.ratio)} (${num(p99.value)} vs raw ${num(p99.raw)} ms)`,
        pass: atMost(p99.ratio, 1.3, row),
      });
    }
  }
  const idle = (scenario: string): Row | undefined => rows.find((r) => r.case.scenario === scenario && r.phase === 'idle');
  const idle10 = idle('idle10k');
  const idle50 = idle('idle50k');
  const rss10 = idle10 ? projectFigure(idle10, 'rssPerSocketKiB') : null;
  if (idle10 && rss10) {
    out.push({
      target: `${(idle10.case.rooms * idle10.case.subscribersPerRoom).toLocaleString('en-US')} idle subscribed sockets: <= 10 KiB RSS per socket after a GC`,
      case: idle10.case.label,
      figure: `${num(rss10.value)} KiB (raw ${num(rss10.raw)} KiB)`,
      pass: failed(idle10) ? false : rss10.value === null ? null : rss10.value <= 10,
    });
  }
  if (idle50) {
    const rss50 = projectFigure(idle50, 'rssPerSocketKiB');
    const held = !failed(idle50);
    out.push({
      target: `${(idle50.case.rooms * idle50.case.subscribersPerRoom).toLocaleString('en-US')} sockets on one instance hold, per socket no worse than at 10,000`,
      case: idle50.case.label,
      figure: `${held ? 'held' : 'did not hold'}; ${num(rss50.value)} KiB per socket${rss10?.value != null ? ` vs ${num(rss10.value)} at 10,000` : ''}`,
      pass: !held ? false : rss50.value === null || rss10?.value == null ? null : rss50.value <= rss10.value,
    });
  }
  const name = (r: RunRecord): string => `${r.case.scenario}/${r.server}#${r.run}`;
  const wrong = records.filter((r) => r.error?.startsWith('CORRECTNESS'));
  const broken = records.filter((r) => r.error && !r.error.startsWith('CORRECTNESS'));
  out.push({
    target: 'Nothing lost, duplicated or reordered in any run',
    case: `${records.length} runs`,
    figure: wrong.length
      ? `${wrong.length} run(s) failed the check: ${wrong.map(name).join(', ')}`
      : broken.length
        ? 'every run that measured was clean'
        : 'every run clean',
    pass: wrong.length === 0,
  });
  if (broken.length) {
    out.push({
      target: 'Every run completed',
      case: `${records.length} runs`,
      figure: `${broken.length} run(s) failed before measuring: ${broken.map((r) => `${name(r)} (${(r.error ?? '').slice(0, 120)})`).join(', ')}`,
      pass: false,
    });
  }
  return out;
}
