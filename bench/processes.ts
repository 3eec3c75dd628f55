import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';

const TICKS_PER_SECOND = 100;

/** `taskset -c <core>` when the machine has it and more than one core; otherwise no pinning (reported). */
export function pinningAvailable(): boolean {
  return cpus().length >= 2 && spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;
}

export interface SpawnOptions {
  /** Script run with node (TypeScript through `--import tsx`, compiled JavaScript as it is). */
  script: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  core: number | null;
  ipc?: boolean;
  label: string;
  /** Node flags before the script. */
  nodeArgs?: readonly string[];
  /** Open-file limit for the child (`prlimit`, where it exists): 50,000 sockets need more than the usual 20k. */
  nofile?: number;
}

/**
 * Whether a child can be given `nofile` open files: `prlimit` exists and may set that limit (raising the hard limit
 * needs CAP_SYS_RESOURCE, which containers often drop), or the inherited hard limit is already that high.
 */
export function canRaiseNofile(nofile: number): boolean {
  return spawnSync('prlimit', [`--nofile=${nofile}:${nofile}`, '--', 'true'], { stdio: 'ignore' }).status === 0;
}

/** The open-file limit children inherit (`ulimit -Hn`); null where there is no shell to ask. */
export function inheritedNofile(): number | null {
  const out = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' });
  const n = Number(out.stdout?.trim());
  return out.status === 0 && Number.isFinite(n) ? n : out.stdout?.trim() === 'unlimited' ? Infinity : null;
}

/** Spawns node directly (through taskset, which execs), so the child's PID is the process we measure and kill. */
export function spawnNode(options: SpawnOptions): ChildProcess {
  // BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the servers without touching the generator.
  const extra = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const loader = options.script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const nodeArgs = [...(options.nodeArgs ?? []), ...extra, ...loader, options.script];
  // prlimit and taskset both exec their command, so the PID stays the node process's.
  const argv = [
    ...(options.nofile && canRaiseNofile(options.nofile) ? ['prlimit', `--nofile=${options.nofile}:${options.nofile}`, '--'] : []),
    ...(options.core === null ? [] : ['taskset', '-c', String(options.core)]),
    process.execPath,
    ...nodeArgs,
  ];
  const [command = process.execPath, ...args] = argv;
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: options.ipc ? ['ignore', 'inherit', 'pipe', 'ipc'] : ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  child.once('exit', (code, signal) => {
    if (code && code !== 0) process.stderr.write(`[${options.label}] exited ${code ?? signal}\n${stderr}\n`);
  });
  return child;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Polls `GET /health` until 200; fails early when the child exits. */
export async function waitHealthy(baseUrl: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${baseUrl}: server exited (${child.exitCode ?? child.signalCode})`);
    try {
      const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(1_000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${baseUrl}/health not 200 within ${timeoutMs} ms`);
}

/** SIGTERM by PID, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

/** Resident set size in KiB from /proc/<pid>/status; null where /proc does not exist. */
export function rssKiB(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** User + system CPU time in ms from /proc/<pid>/stat (fields 14 and 15, in clock ticks). */
export function cpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces; fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/**
 * A server started with the heap probe (`heap-probe.mjs`), read right after two full GCs: its live JS heap (what
 * its objects hold, without the young generation and allocator slack) and its RSS, both in KiB. Null if it does
 * not answer.
 */
export async function afterGcKiB(pid: number, probeDir: string, timeoutMs = 10_000): Promise<{ heapKiB: number; rssKiB: number } | null> {
  const file = join(probeDir, `heap-${pid}.json`);
  const asked = Date.now();
  try {
    process.kill(pid, 'SIGUSR2');
  } catch {
    return null;
  }
  while (Date.now() - asked < timeoutMs) {
    try {
      const probe = JSON.parse(readFileSync(file, 'utf8')) as { at: number; heapUsed: number; rss: number };
      if (probe.at >= asked) return { heapKiB: probe.heapUsed / 1024, rssKiB: probe.rss / 1024 };
    } catch {
      // not written yet, or written half-way
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return null;
}
