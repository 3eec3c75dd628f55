import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freePort, stopProcess } from './processes.ts';

export interface RedisHandle {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    socket.once('connect', () => socket.write('PING\r\n'));
  });
}

/** A throwaway redis-server on a free loopback port, no persistence, pinned with the servers when asked. */
export async function startRedis(core: number | null, timeoutMs = 10_000): Promise<RedisHandle> {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child: ChildProcess =
    core === null
      ? spawn('redis-server', args, { stdio: 'ignore' })
      : spawn('taskset', ['-c', String(core), 'redis-server', ...args], { stdio: 'ignore' });
  const deadline = Date.now() + timeoutMs;
  while (!(await ping(port))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      await stopProcess(child);
      throw new Error('redis-server did not answer PING');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid ?? -1, stop: () => stopProcess(child) };
}
