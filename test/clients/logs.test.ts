import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { gql } from '../utils/http-client.ts';
import { signTestToken, TEST_SECRET } from '../utils/tokens.ts';
import { waitFor, within } from '../utils/wait.ts';
import { connectAuthed } from '../utils/ws-client.ts';

type LogLine = Record<string, unknown> & { msg?: string };

/** `npm start` as production runs it (tsx, JSON on stdout), on a free port, killed by PID after the test. */
async function startServerProcess(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: new URL('../../', import.meta.url).pathname,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', JWT_SECRET: TEST_SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await within(exited, 5_000, 'server process exit').catch(() => undefined);
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const lines = () => stdout.split('\n').filter(Boolean);
  const parsed = () => lines().map((line) => JSON.parse(line) as LogLine);
  await waitFor(() => child.exitCode !== null || /chat server ready/.test(stdout), 20_000, `the server to start (stderr: ${stderr})`);
  const ready = parsed().find((line) => typeof line.url === 'string' && line.msg?.startsWith('chat server ready'));
  if (!ready) throw new Error(`server did not start: ${stdout}\n${stderr}`);
  const graphqlUrl = String(ready.url);
  return {
    graphqlUrl,
    wsUrl: graphqlUrl.replace(/^http/, 'ws'),
    raw: () => stdout,
    lines,
    parsed,
    async stop() {
      child.kill('SIGTERM');
      await within(exited, 10_000, 'exit after SIGTERM');
    },
  };
}

describe('structured logs', () => {
  it('carry connection, user, operation and close code, and never a token or a message body', async () => {
    const server = await startServerProcess({ LOG_LEVEL: 'debug', NODE_ENV: 'development' });
    const token = await signTestToken({ sub: 'logan', name: 'Logan' });
    const body = `secret-body-${randomUUID()}`;

    const created = await gql<{ createRoom: { id: string } }>(server.graphqlUrl, 'mutation { createRoom(name: "logs") { id } }', {}, token);
    const roomId = created.data?.createRoom.id;
    const client = await connectAuthed(server.wsUrl, token);
    client.send({
      id: 'events',
      type: 'subscribe',
      payload: {
        operationName: 'RoomEvents',
        query: 'subscription RoomEvents($roomId: ID!) { roomEvents(roomId: $roomId) { ... on MessageSent { message { body } } } }',
        variables: { roomId },
      },
    });
    await waitFor(() => server.raw().includes('"operationName":"RoomEvents"'), 5_000, 'the subscribe log line');
    // One message over HTTP, one over the socket: both paths must keep the body out of the logs.
    const sent = await gql(
      server.graphqlUrl,
      'mutation Send($roomId: ID!, $body: String!) { sendMessage(roomId: $roomId, body: $body) { id } }',
      { roomId, body },
      token,
    );
    expect(sent.errors).toBeUndefined();
    client.send({
      id: 'send',
      type: 'subscribe',
      payload: {
        operationName: 'SendOverSocket',
        query: 'mutation SendOverSocket($roomId: ID!, $body: String!) { sendMessage(roomId: $roomId, body: $body) { id } }',
        variables: { roomId, body: `${body}-ws` },
      },
    });
    await client.waitForNexts('events', 2);
    await client.close(1000);
    await waitFor(() => server.parsed().some((line) => line.code === 1000), 5_000, 'the close log line');
    await server.stop();

    const raw = server.raw();
    const lines = server.parsed();
    // Every line is one JSON object (pino), so a log pipeline can index the fields below.
    expect(server.lines().length).toBe(lines.length);
    expect(raw).not.toContain(token);
    expect(raw).not.toContain(token.split('.')[2]);
    expect(raw).not.toContain(body);

    const acked = lines.find((line) => line.msg === 'connection acknowledged');
    expect(acked).toMatchObject({ connectionId: expect.anything(), userId: 'logan' });
    const connectionId = acked?.connectionId;
    expect(lines.find((line) => line.operationName === 'RoomEvents')).toMatchObject({ connectionId });
    expect(lines.find((line) => line.operationName === 'SendOverSocket')).toMatchObject({ connectionId });
    expect(lines.find((line) => line.code === 1000)).toMatchObject({ connectionId, userId: 'logan' });
  });
});
