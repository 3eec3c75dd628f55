import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, spawnNode, stopProcess, waitHealthy } from './processes.ts';

export type ServerKind = 'project' | 'raw' | 'yoga';
export const SERVER_KINDS: readonly ServerKind[] = ['project', 'raw', 'yoga'];

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

const SCRIPTS: Record<ServerKind, string> = {
  // What `npm start` runs: the compiled server, no TypeScript loader (built below when stale).
  project: 'dist/main.js',
  raw: 'bench/baselines/raw-ws.ts',
  yoga: 'bench/baselines/yoga-stock.ts',
};

export interface ServerHandle {
  kind: ServerKind;
  pid: number;
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  graphqlUrl: string;
  wsUrl: string;
  stop(): Promise<void>;
}

export interface StartServerOptions {
  secret: string;
  core: number | null;
  redisUrl?: string;
  startTimeoutMs?: number;
  /** Open-file limit (see spawnNode): the 50,000-socket case needs one above the default. */
  nofile?: number;
}

/** Limits opened wide: the bench measures fan-out, not the rate limiter or connection caps. */
export const HEAP_PROBE_DIR = join(tmpdir(), 'chat-bench-heap');

/**
 * The node flags of `npm start`, given to every server alike: a young generation of 2 x 16 MiB keeps fan-out's
 * short-lived objects out of the old generation without holding 64 MiB after a connect burst (32 cost idle sockets
 * 4 KiB each at 10,000 and bought no throughput: docs/idle-socket-cost.md). Then the heap probe
 * (`heap-probe.mjs`, idle until S3 signals it), for every server alike too.
 */
const SERVER_NODE_ARGS = [
  '--max-semi-space-size=16',
  '--expose-gc',
  '--import',
  fileURLToPath(new URL('./heap-probe.mjs', import.meta.url)),
];

function serverEnv(port: number, options: StartServerOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: String(port),
    HOST: '127.0.0.1',
    JWT_SECRET: options.secret,
    MESSAGE_RATE: '1000000',
    MESSAGE_BURST: '1000000',
    ROOM_RATE: '1000000',
    // Editors type at 5 edits/s each and the OtClient sends at most one at a time; the limits are opened anyway.
    EDIT_RATE: '1000000',
    EDIT_BURST: '1000000',
    CURSOR_RATE: '1000000',
    MAX_CONNECTIONS: '100000',
    MAX_CONNECTIONS_PER_ADDRESS: '100000',
    FRAME_RATE: '1000000',
    LOG_LEVEL: 'warn',
    // Measured as deployed: production mode (no GraphiQL assets loaded, errors masked) for every server alike.
    NODE_ENV: 'production',
    BENCH_HEAP_PROBE_DIR: HEAP_PROBE_DIR,
  };
  if (options.redisUrl) env.REDIS_URL = options.redisUrl;
  return env;
}

function buildIfStale(): void {
  const build = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed: the project server cannot start');
}

export async function startServer(kind: ServerKind, options: StartServerOptions): Promise<ServerHandle> {
  const port = await freePort();
  mkdirSync(HEAP_PROBE_DIR, { recursive: true });
  if (kind === 'project') buildIfStale();
  const child: ChildProcess = spawnNode({
    script: SCRIPTS[kind],
    cwd: REPO_ROOT,
    env: serverEnv(port, options),
    core: options.core,
    label: kind,
    nodeArgs: SERVER_NODE_ARGS,
    ...(options.nofile ? { nofile: options.nofile } : {}),
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(baseUrl, child, options.startTimeoutMs ?? 30_000);
  } catch (error) {
    await stopProcess(child);
    throw error;
  }
  return {
    kind,
    pid: child.pid ?? -1,
    baseUrl,
    graphqlUrl: `${baseUrl}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    stop: () => stopProcess(child),
  };
}
