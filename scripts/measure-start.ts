// `npx tsx scripts/measure-start.ts [--runs 5] [--settle-ms 3000]`: start-up time (spawn -> first `GET /health`
// 200, wall and CPU) and idle RSS of the server process, for the TypeScript-loader start (tsx) and the compiled one (dist/),
// each started both directly and through npm. Variants alternate run by run so machine load hits them alike;
// prints the runs and the medians. Linux only (RSS from /proc). Builds dist/ first if it is stale.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const root = fileURLToPath(new URL('..', import.meta.url));
const option = (name: string, fallback: number) => {
  const at = process.argv.indexOf(name);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
};
const RUNS = option('--runs', 5);
const SETTLE_MS = option('--settle-ms', 3_000);

interface Variant {
  name: string;
  command: string;
  args: string[];
}
const VARIANTS: Variant[] = [
  {
    name: 'before: node --import tsx src/main.ts',
    command: process.execPath,
    args: ['--max-semi-space-size=16', '--import', 'tsx', 'src/main.ts'],
  },
  { name: 'after:  node dist/main.js', command: process.execPath, args: ['--max-semi-space-size=16', 'dist/main.js'] },
  { name: 'before: npm run dev (the old npm start)', command: 'npm', args: ['run', 'dev'] },
  { name: 'after:  npm start (build check + dist)', command: 'npm', args: ['start'] },
];

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid ? [Number(entry)] : [];
      } catch {
        return [];
      }
    });
}

/** The server itself: the process whose command line runs main (npm and its shell sit in front of it). */
function serverPid(pid: number): number {
  const queue = [pid];
  while (queue.length > 0) {
    const current = queue.shift() as number;
    const argv = readFileSync(`/proc/${current}/cmdline`, 'utf8').split('\0');
    if (argv.some((arg) => arg === 'dist/main.js' || arg === 'src/main.ts')) return current;
    queue.push(...childrenOf(current));
  }
  throw new Error(`no server process under ${pid}`);
}

/** Every live process under `pid`, `pid` included. */
function tree(pid: number): number[] {
  const found = [pid];
  for (let i = 0; i < found.length; i++) found.push(...childrenOf(found[i] as number));
  return found;
}

// utime, stime, cutime, cstime (fields 14-17): CPU of each live process plus what its reaped children used, so
// npm's prestart build check and tsx's esbuild service count too. Less sensitive to machine load than wall time.
const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);
function cpuMs(pid: number): number {
  let ticks = 0;
  for (const member of tree(pid)) {
    try {
      const stat = readFileSync(`/proc/${member}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += [11, 12, 13, 14].reduce((sum, at) => sum + Number(fields[at]), 0);
    } catch {
      // exited meanwhile
    }
  }
  return ticks * TICK_MS;
}

const rssKiB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(500) })).ok;
  } catch {
    return false;
  }
}

interface Result {
  startMs: number;
  cpuMs: number;
  rssMiB: number;
}

async function measure(variant: Variant): Promise<Result> {
  const port = await freePort();
  const started = performance.now();
  // Own process group, so npm, its shell and the server are killed together by the group's id.
  const child = spawn(variant.command, variant.args, {
    cwd: root,
    detached: true,
    stdio: 'ignore',
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? root,
      HOST: '127.0.0.1',
      PORT: String(port),
      NODE_ENV: 'production',
      JWT_SECRET: 'measure-start-secret-0123456789abcdef',
    },
  });
  const exited = once(child, 'exit');
  try {
    const url = `http://127.0.0.1:${port}/health`;
    const deadline = Date.now() + 60_000;
    while (!(await healthy(url))) {
      if (child.exitCode !== null) throw new Error(`${variant.name} exited during start`);
      if (Date.now() > deadline) throw new Error(`${variant.name} did not answer /health in 60 s`);
      await sleep(5);
    }
    const startMs = performance.now() - started;
    const startCpuMs = cpuMs(child.pid as number);
    const server = serverPid(child.pid as number);
    // Idle: nothing connected; start-up garbage has had time to be collected by the young generation.
    await sleep(SETTLE_MS);
    return { startMs, cpuMs: startCpuMs, rssMiB: rssKiB(server) / 1024 };
  } finally {
    process.kill(-(child.pid as number), 'SIGKILL');
    await exited;
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

const build = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const results = new Map<string, Result[]>(VARIANTS.map((variant) => [variant.name, []]));
for (let run = 1; run <= RUNS; run++) {
  for (const variant of run % 2 ? VARIANTS : [...VARIANTS].reverse()) {
    const result = await measure(variant);
    results.get(variant.name)?.push(result);
    console.log(
      `run ${run} ${variant.name.padEnd(44)} start ${result.startMs.toFixed(0).padStart(5)} ms  CPU ${result.cpuMs.toFixed(0).padStart(5)} ms  idle RSS ${result.rssMiB.toFixed(1)} MiB`,
    );
  }
}
console.log(`\nmedians of ${RUNS} (idle RSS after ${SETTLE_MS} ms, NODE_ENV=production, in memory)`);
for (const [name, runs] of results) {
  console.log(
    `${name.padEnd(44)} start ${median(runs.map((r) => r.startMs))
      .toFixed(0)
      .padStart(5)} ms  CPU ${median(runs.map((r) => r.cpuMs))
      .toFixed(0)
      .padStart(5)} ms  idle RSS ${median(runs.map((r) => r.rssMiB)).toFixed(1)} MiB`,
  );
}
