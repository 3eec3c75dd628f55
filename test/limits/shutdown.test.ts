import { spawn, type ChildProcess } from 'node:child_process';
import { describe, expect, it, onTestFinished } from 'vitest';
import { gql } from '../utils/http-client.ts';
import { TEST_SECRET } from '../utils/tokens.ts';
import { within } from '../utils/wait.ts';
import { connectAuthed, connectRaw } from '../utils/ws-client.ts';
import { ROOM_EVENTS, token } from './helpers.ts';

/**
 * The real process edge: `src/main.ts` in a child process. Started as `node --import tsx` rather than
 * `npx tsx` so that the PID we signal (and kill in teardown) is the server itself, not a launcher in front of it.
 */
async function startServerProcess(env: Record<string, string> = {}) {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: process.cwd(),
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: '0', JWT_SECRET: TEST_SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await within(
    new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /"url":"(http:\/\/[^"]+)\/graphql"/.exec(output);
        if (match) resolve(match[1]!);
      });
      void exited.then(() => reject(new Error(`server exited before listening:\n${output}`)));
    }),
    20_000,
    'the server process to listen',
  );
  return { child, url, wsUrl: `${url.replace('http', 'ws')}/graphql`, graphqlUrl: `${url}/graphql`, exited, output: () => output };
}

describe('graceful shutdown (SIGTERM)', () => {
  it('closes every socket with 1001, stops accepting, and exits 0 in time', async () => {
    const server = await startServerProcess({ SHUTDOWN_TIMEOUT_MS: '5000' });
    const created = await gql<{ createRoom: { id: string } }>(
      server.graphqlUrl,
      'mutation { createRoom(name: "bye") { id } }',
      {},
      await token('alice'),
    );
    const roomId = created.data!.createRoom.id;

    const watchers = [await connectAuthed(server.wsUrl, await token('alice')), await connectAuthed(server.wsUrl, await token('bob'))];
    for (const watcher of watchers) {
      watcher.subscribe('room', ROOM_EVENTS, { roomId });
      await watcher.waitForNexts('room', 1);
    }
    const idle = await connectAuthed(server.wsUrl, await token('carol'));
    const unauthenticated = await connectRaw(server.wsUrl);
    // An SSE subscriber never ends its request by itself: shutdown must not wait for it.
    const sse = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${await token('dora')}` },
      body: JSON.stringify({ query: ROOM_EVENTS, variables: { roomId } }),
    });
    const sseReader = sse.body!.getReader();
    await within(sseReader.read(), 5_000, 'the first SSE bytes');

    process.kill(server.child.pid!, 'SIGTERM');
    for (const client of [...watchers, idle, unauthenticated]) {
      const closed = await within(client.closed, 10_000, '1001');
      expect(closed).toEqual({ code: 1001, reason: 'Server shutting down' });
    }
    const { code, signal } = await within(server.exited, 10_000, 'the process to exit');
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    // The SSE stream was ended by the server, not left hanging.
    await within(
      (async () => {
        for (;;) if ((await sseReader.read().catch(() => ({ done: true }))).done) return;
      })(),
      5_000,
      'the SSE stream to end',
    );
    expect(server.output()).toContain('shutting down');
    // Nothing listens any more.
    await expect(fetch(`${server.url}/health`, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
  });
});
