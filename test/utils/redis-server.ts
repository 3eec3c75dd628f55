import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { freePort } from './free-port.ts';
import { killOnExit } from './kill-on-exit.ts';

/**
 * A private `redis-server` (never the shared one on 6379): no persistence unless `durable`, DEBUG allowed (Redis 7 disables it
 * unless started with `--enable-debug-command`, pitfalls §20). `restart()` keeps the port, so clients reconnect
 * to it as they would to a restarted production Redis.
 */
export interface RedisServer {
  readonly port: number;
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  /** A key prefix no other test uses; pass it to `deleteKeys` when the test ends. */
  newPrefix(): string;
  deleteKeys(prefix: string): Promise<void>;
  /** One command on a short-lived connection of its own (PUBLISH garbage, CLIENT KILL, DEBUG ...). */
  command(...args: Array<string | number>): Promise<unknown>;
  /** Kills the process (SIGKILL: a crash, nothing saved) and waits for its exit. */
  stop(): Promise<void>;
  /** Stops if running, then starts again on the same port and waits until it answers PING. */
  restart(): Promise<void>;
  /** SIGSTOP: the sockets stay open and nothing answers, like a frozen host. */
  pause(): void;
  resume(): void;
}

/** One short-lived connection of its own, closed whatever happens. */
async function withClient<T>(port: number, use: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await use(client);
  } finally {
    client.disconnect();
  }
}

const answersPing = (port: number): Promise<boolean> =>
  withClient(port, async (client) => (await client.ping()) === 'PONG').catch(() => false);

export interface RedisServerOptions {
  startTimeoutMs?: number;
  /**
   * AOF with `appendfsync always` in a temporary directory (pitfalls §19), so `restart()` is a crash that keeps
   * every acknowledged write, as a production Redis configured for "no acknowledged message lost" would.
   * @default false (nothing survives a restart)
   */
  durable?: boolean;
}

export async function startRedisServer({ startTimeoutMs = 5_000, durable = false }: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const persistence = durable
    ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', mkdtempSync(join(tmpdir(), 'chat-redis-'))]
    : ['--appendonly', 'no'];
  if (durable) {
    const dir = persistence.at(-1) as string;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  let child: ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();

  async function start() {
    const started = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--enable-debug-command', 'local'],
      { stdio: 'ignore' },
    );
    child = started;
    killOnExit(started);
    exited = once(started, 'exit');
    const deadline = Date.now() + startTimeoutMs;
    while (!(await answersPing(port))) {
      if (started.exitCode !== null) throw new Error(`redis-server exited with ${started.exitCode} on port ${port}`);
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`redis-server did not answer PING within ${startTimeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async function stop() {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    // SIGKILL also ends a SIGSTOPped process.
    child.kill('SIGKILL');
    await exited;
  }

  function command(...args: Array<string | number>): Promise<unknown> {
    const [name, ...rest] = args;
    return withClient(port, (client) => client.call(String(name), ...rest));
  }

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    newPrefix: () => `test-${randomBytes(6).toString('hex')}:`,
    async deleteKeys(prefix) {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      await withClient(port, async (client) => {
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
          cursor = next;
          if (keys.length > 0) await client.del(...keys);
        } while (cursor !== '0');
      });
    },
    command,
    stop,
    async restart() {
      await stop();
      await start();
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
  };
}

/** One redis-server for the whole file (tests isolate themselves by key prefix), stopped after its last test. */
export function useRedis(options: RedisServerOptions = {}): () => RedisServer {
  let server: RedisServer | undefined;
  beforeAll(async () => {
    server = await startRedisServer(options);
  });
  afterAll(async () => {
    server?.resume();
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error('redis-server not started');
    return server;
  };
}
