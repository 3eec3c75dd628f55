import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createRoom, history, send, user } from '../utils/chat.ts';
import { answersHealth, gql } from '../utils/http-client.ts';
import { freePort } from '../utils/free-port.ts';
import { startInstance } from '../utils/instance.ts';
import { killOnExit } from '../utils/kill-on-exit.ts';
import { useRedis } from '../utils/redis-server.ts';
import { connectAuthed } from '../utils/ws-client.ts';
import { TEST_SECRET } from '../utils/tokens.ts';
import { waitFor, within } from '../utils/wait.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const redisServer = useRedis();

/** Parent pid of every process, from /proc/<pid>/stat (field 4, after the parenthesised command name). */
function parentPids(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited between readdir and read
    }
  }
  return parents;
}

function descendants(pid: number): number[] {
  const parents = parentPids();
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const current = queue.shift() as number;
    for (const [child, parent] of parents) if (parent === current) (found.push(child), queue.push(child));
  }
  return found;
}

const argvOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);

const LOADER_FLAG = /^(--import|--loader|--experimental-loader|--require|-r)(=|$)/;

/**
 * What would let a Node 20 process run TypeScript, as seen from outside it: a loader flag on its command line or in
 * its NODE_OPTIONS, tsx or esbuild among its mapped files, or an esbuild service among its children. Node 20 cannot
 * strip types by itself, so a process without any of these that answers GraphQL is running JavaScript.
 */
function typeScriptLoaderEvidence(pid: number): string[] {
  const argv = argvOf(pid);
  const evidence = argv.flatMap((arg, i) => (LOADER_FLAG.test(arg) ? [`argv: ${arg} ${argv[i + 1] ?? ''}`.trim()] : []));
  const nodeOptions = readFileSync(`/proc/${pid}/environ`, 'utf8')
    .split('\0')
    .find((entry) => entry.startsWith('NODE_OPTIONS='));
  if (nodeOptions && /--import|--loader|--require|-r\b|tsx/.test(nodeOptions)) evidence.push(nodeOptions);
  for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
    if (/\/(tsx|esbuild|@esbuild)\//.test(line)) evidence.push(`mapped: ${line.slice(line.indexOf('/'))}`);
  }
  for (const child of descendants(pid))
    if (argvOf(child).some((arg) => /esbuild/.test(arg))) evidence.push(`child: ${argvOf(child).join(' ')}`);
  return evidence;
}

/** Collects what `child` prints and waits until it answers /health on `port` (failing with that output if it exits). */
async function untilHealthy(child: ChildProcess, port: number, label: string, timeoutMs: number) {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`${label} exited:\n${output}`);
      return answersHealth(url);
    },
    timeoutMs,
    `${label} to answer /health (output so far:\n${output})`,
  );
  return { url, output: () => output };
}

/**
 * `npm start` exactly as the README says, in its own process group (npm -> sh -> node): the group is SIGKILLed by
 * its id after the test. Returns the server's own pid, found among npm's descendants.
 */
async function npmStart(env: Record<string, string>) {
  const port = await freePort();
  const child = spawn('npm', ['start'], {
    cwd: root,
    detached: true,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? root, HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const group = child.pid as number;
  const killGroup = () => {
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  // Last resort if the worker dies before teardown: the server is npm's grandchild, so kill the whole group.
  process.once('exit', killGroup);
  const exited = once(child, 'exit');
  onTestFinished(async () => {
    killGroup();
    process.off('exit', killGroup);
    await within(exited, 5_000, 'npm start to exit').catch(() => undefined);
  });
  // Generous: a stale or missing dist/ is rebuilt by npm start's build check first, on a machine shared with other test files.
  const { url, output } = await untilHealthy(child, port, 'npm start', 90_000);
  // The one Node process under npm's shell (prestart's build has exited by now).
  const server = descendants(group).find((pid) => basename(readlinkSync(`/proc/${pid}/exe`)).startsWith('node'));
  if (server === undefined) throw new Error(`no node process under npm start:\n${output()}`);
  return { url, graphqlUrl: `${url}/graphql`, npm: child, exited, server, output };
}

const get = (url: string, accept = '*/*') => fetch(url, { headers: { accept }, signal: AbortSignal.timeout(5_000) });

describe('npm start (production): compiled JavaScript from dist/, no TypeScript loader', () => {
  it(
    'serves /health, GraphiQL, the demo page and a query with a dev token, with no tsx or esbuild in the process',
    { timeout: 120_000 },
    async () => {
      // No JWT_SECRET and no NODE_ENV: the README's embedded default, with the dev secret and the demo login.
      const app = await npmStart({});
      expect(argvOf(app.server).slice(1)).toEqual(['--max-semi-space-size=16', 'dist/main.js']);
      expect(typeScriptLoaderEvidence(app.server)).toEqual([]);

      expect((await get(`${app.url}/health`)).status).toBe(200);
      const graphiql = await get(app.graphqlUrl, 'text/html');
      expect(graphiql.status).toBe(200);
      expect(await graphiql.text()).toMatch(/graphiql/i);
      // Assets read beside their module: copied into dist/ by the build.
      const page = await get(`${app.url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('/demo/chat.js');
      expect((await get(`${app.url}/demo/chat.js`)).status).toBe(200);

      const login = await fetch(`${app.url}/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Ada' }),
        signal: AbortSignal.timeout(5_000),
      });
      expect(login.status).toBe(200);
      const { token } = (await login.json()) as { token: string };
      expect(await gql(app.graphqlUrl, '{ me { id name } }', {}, token)).toEqual({ data: { me: { id: 'ada', name: 'Ada' } } });
    },
  );

  it('runs the Redis adapters from dist/ (their Lua scripts are copied beside them)', { timeout: 120_000 }, async () => {
    const redis = redisServer();
    const prefix = redis.newPrefix();
    onTestFinished(() => redis.deleteKeys(prefix));
    const app = await npmStart({ REDIS_URL: redis.url, REDIS_PREFIX: prefix, JWT_SECRET: TEST_SECRET, NODE_ENV: 'production' });
    expect(typeScriptLoaderEvidence(app.server)).toEqual([]);
    const alice = await user('alice');
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    const sent = await send(app.graphqlUrl, alice.token, roomId, 'from dist');
    expect((await history(app.graphqlUrl, alice.token, roomId)).map((message) => message.id)).toEqual([sent.id]);
  });

  it('stops gracefully when npm gets SIGTERM, as a container runtime sends it to `npm start`', { timeout: 120_000 }, async () => {
    const app = await npmStart({});
    // npm hands the signal to its child: that child must be the server (`exec`), not a shell that dies and leaves
    // the server running as an orphan.
    app.npm.kill('SIGTERM');
    await within(app.exited, 15_000, 'npm start to exit');
    await waitFor(() => !existsSync(`/proc/${app.server}`), 5_000, `server pid ${app.server} to exit`);
    expect(app.output()).toMatch(/"signal":"SIGTERM","msg":"shutting down"/);
  });

  // The README's supervisor and container command: the server itself, no npm in between, so the signal the
  // supervisor sends is the server's to handle and its exit code is the server's.
  it.each(['SIGTERM', 'SIGINT'] as const)(
    '`node --max-semi-space-size=16 dist/main.js` stops gracefully on %s: open sockets get 1001, exit 0, the port is free again',
    { timeout: 60_000 },
    async (signal) => {
      const port = await freePort();
      const child = spawn(process.execPath, ['--max-semi-space-size=16', 'dist/main.js'], {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? root, HOST: '127.0.0.1', PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      killOnExit(child);
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      onTestFinished(async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await within(exited, 5_000, 'node dist/main.js to exit').catch(() => undefined);
      });
      const { url, output } = await untilHealthy(child, port, 'node dist/main.js', 30_000);
      const login = await fetch(`${url}/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Ada' }),
        signal: AbortSignal.timeout(5_000),
      });
      const { token } = (await login.json()) as { token: string };
      const socket = await connectAuthed(`ws://127.0.0.1:${port}/graphql`, token);

      child.kill(signal);
      expect(await within(exited, 15_000, 'node dist/main.js to exit')).toEqual([0, null]);
      expect((await socket.closed).code).toBe(1001);
      expect(output()).toContain(`"signal":"${signal}","msg":"shutting down"`);
      // Nothing is left holding the port: the next start can listen on it.
      const probe = createServer();
      probe.listen(port, '127.0.0.1');
      await once(probe, 'listening');
      await new Promise((resolve) => probe.close(resolve));
    },
  );

  it('the loader probe sees tsx in a server started the development way (so its empty answer above means something)', async () => {
    const instance = await startInstance();
    expect(typeScriptLoaderEvidence(instance.pid)).toContain('argv: --import tsx');
  });
});
