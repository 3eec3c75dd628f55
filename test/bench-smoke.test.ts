import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { createGenerator, type Generator, type PhaseRequest } from '../bench/generator/generator.ts';
import { createGraphqlHttp, createRoom } from '../bench/generator/publisher.ts';
import { runDocuments } from '../bench/generator/documents.ts';
import { FRAGMENT_DOCUMENT, type MutationTransport } from '../bench/protocol.ts';
import { correctnessProblems } from '../bench/scenarios.ts';
import { REPO_ROOT, startServer, type ServerHandle, type ServerKind } from '../bench/servers.ts';
import { signToken } from '../bench/tokens.ts';
import { useRedis } from './utils/redis-server.ts';

/**
 * The bench harness end to end at toy size, as the bench runs it: one user per socket, a random operation id per
 * socket, the fragment and the inline document side by side, sendMessage over HTTP and over WebSocket, a paced
 * phase and a saturated one. Asserts that every delivery is checked and accounted for, never speed.
 */
const PER_DOCUMENT = 10;
const SUBSCRIBERS = 2 * PER_DOCUMENT;

describe.each<ServerKind>(['raw', 'project'])('bench harness against %s', (kind) => {
  const secret = randomBytes(32).toString('hex');
  let server: ServerHandle | undefined;
  let generator: Generator | undefined;
  let roomId = '';

  beforeAll(async () => {
    server = await startServer(kind, { secret, core: null, startTimeoutMs: 20_000 });
    const http = createGraphqlHttp(server.graphqlUrl, await signToken(secret, 'smoke-admin'), 1);
    try {
      roomId = await createRoom(http);
    } finally {
      http.close();
    }
    generator = createGenerator();
  }, 30_000);

  afterAll(async () => {
    await generator?.close();
    await server?.stop();
  }, 15_000);

  it('delivers every message to every subscriber once and in order, paced over HTTP and saturated over WebSocket', async ({ expect }) => {
    if (!server || !generator) throw new Error('setup failed');
    const group = [{ url: server.wsUrl, roomId, count: PER_DOCUMENT }];
    const open = { secret, localAddresses: [], concurrency: PER_DOCUMENT, timeoutMs: 10_000 };
    expect(await generator.open({ ...open, groups: group, document: 'fragment', userOffset: 0 })).toMatchObject({
      opened: PER_DOCUMENT,
      failed: 0,
    });
    expect(await generator.open({ ...open, groups: group, document: 'inline', userOffset: PER_DOCUMENT })).toMatchObject({
      opened: PER_DOCUMENT,
      failed: 0,
    });
    expect(await generator.probe({ url: server.graphqlUrl, secret, timeoutMs: 10_000 })).toMatchObject({ ok: true, unprobed: 0 });

    const base: Omit<PhaseRequest, 'transport' | 'load'> = {
      graphqlUrl: server.graphqlUrl,
      wsUrl: server.wsUrl,
      secret,
      seconds: 1,
      warmup: false,
      serverPids: [server.pid],
      redisPid: null,
      drainTimeoutMs: 15_000,
      idleTimeoutMs: 3_000,
    };
    // 20 messages/s to 20 subscribers: 20 messages in the one second, each due at its own slot.
    const paced = await generator.run({ ...base, transport: 'http', load: { kind: 'rate', deliveriesPerSec: 400 } });
    expect(correctnessProblems(paced)).toEqual([]);
    expect(paced).toMatchObject({
      messagesSent: 20,
      offeredMessagesPerSec: 20,
      expectedDeliveries: 20 * SUBSCRIBERS,
      deliveries: 20 * SUBSCRIBERS,
      lost: 0,
    });
    expect(paced.latency.count).toBe(paced.deliveries);
    expect(paced.serverCpuMs).not.toBeNull();

    const saturated = await generator.run({ ...base, transport: 'ws', load: { kind: 'saturate', inflight: 4 } });
    expect(correctnessProblems(saturated)).toEqual([]);
    expect(saturated.messagesSent).toBeGreaterThan(0);
    expect(saturated).toMatchObject({ deliveries: saturated.messagesSent * SUBSCRIBERS, lost: 0, duplicates: 0, outOfOrder: 0 });
  }, 60_000);
});

describe('npm run bench -- --quick', () => {
  const out = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('runs a case on project and raw, alternating, and reports its targets with pass/fail; documents on the project alone', async ({
    expect,
  }) => {
    const args = [
      '--import',
      'tsx',
      'bench/run.ts',
      '--quick',
      '--no-pin',
      '--scenario',
      'room1000,documents',
      '--subscribers',
      '20',
      '--rates',
      '400,800',
      '--phase-seconds',
      '1',
      '--out',
      out,
    ];
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearTimeout(timer);
    expect(code, output).toBe(0);
    expect(output).toMatch(/project run 1\/1[\s\S]*raw run 1\/1/);
    // The baselines have no documents: one project run, its checks passed.
    expect(output).toMatch(
      /documents: .*20 readers.* \/ project run 1\/1 \.\.\. \n {4}[\d.]+ edits committed\/s.*every reader got 1\.\.\d+ once in order, 5 editors converged/,
    );
    expect(output).not.toMatch(/documents: .* \/ raw run/);
    const report = readdirSync(out).find((f) => f.endsWith('.md'));
    const markdown = readFileSync(join(out, report ?? 'missing.md'), 'utf8');
    expect(markdown).toContain('## Targets');
    expect(markdown).toMatch(/server CPU per delivery <= 1\.2x raw at 800 deliveries\/s offered .*\| (PASS|\*\*FAIL\*\*) \|/);
    expect(markdown).toMatch(/Nothing lost, duplicated or reordered in any run \| every run clean \| PASS \|/);
    expect(markdown).toContain('the project alone: the raw and yoga baselines have no documents, so there is no ratio');
  }, 60_000);
});

describe('the documents scenario at toy size, Redis on', () => {
  const redis = useRedis();
  const secret = randomBytes(32).toString('hex');
  let server: ServerHandle | undefined;

  beforeAll(async () => {
    server = await startServer('project', { secret, core: null, redisUrl: redis().url, startTimeoutMs: 20_000 });
  }, 30_000);

  afterAll(async () => {
    await server?.stop();
  }, 15_000);

  const transports: MutationTransport[] = ['http', 'ws'];
  for (const transport of transports) {
    it(`every reader gets every edit once in order and every editor converges, editDocument over ${transport}`, async ({ expect }) => {
      if (!server) throw new Error('setup failed');
      const readers = 10;
      const phase = await runDocuments({
        graphqlUrl: server.graphqlUrl,
        wsUrl: server.wsUrl,
        transport,
        secret,
        editors: 3,
        editsPerSec: 5,
        readers,
        seconds: 1,
        serverPids: [server.pid],
        redisPid: null,
        openConcurrency: 10,
        timeoutMs: 10_000,
        drainTimeoutMs: 15_000,
      });
      expect(correctnessProblems(phase)).toEqual([]);
      expect(phase.documents).toMatchObject({
        editors: 3,
        readers,
        finalVersion: (phase.documents?.editsCommitted ?? 0) + 1,
        problems: [],
      });
      expect(phase.documents?.editsCommitted).toBeGreaterThan(0);
      expect(phase).toMatchObject({
        deliveries: phase.messagesSent * readers,
        expectedDeliveries: phase.messagesSent * readers,
        lost: 0,
        drained: true,
      });
      expect(phase.latency.count).toBe(phase.deliveries);
    }, 40_000);
  }
});

/**
 * A deliberately faulty server (in this process): the harness must fail the run for each fault, not report a figure.
 * It speaks the protocol raw-ws.ts speaks, then damages the first subscriber's stream in one way.
 */
type Fault = 'drop' | 'duplicate' | 'reorder' | 'foreign id';

async function faultyServer(fault: Fault): Promise<{ graphqlUrl: string; wsUrl: string; close(): Promise<void> }> {
  const subs: Array<{ socket: WebSocket; id: string }> = [];
  let seq = 0;
  let held: string | null = null;
  const frame = (id: string, n: number, body: string): string =>
    JSON.stringify({
      id,
      type: 'next',
      payload: {
        data: {
          roomEvents: {
            __typename: 'MessageSent',
            message: { id: `r_faulty:${String(n).padStart(12, '0')}`, roomId: 'r_faulty', body, sentAt: new Date().toISOString() },
          },
        },
      },
    });
  const http = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const op = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { query: string; variables?: { body?: string } };
      const n = ++seq;
      const body = op.variables?.body ?? '';
      subs.forEach((sub, i) => {
        const text = frame(sub.id, n, body);
        const measured = body.includes('"k":"m"');
        if (i > 0 || !measured) return sub.socket.send(text);
        if (fault === 'drop' && n % 2 === 0) return;
        if (fault === 'duplicate') sub.socket.send(text);
        if (fault === 'foreign id') return sub.socket.send(frame('someone-else', n, body));
        if (fault === 'reorder' && held === null) return void (held = text);
        sub.socket.send(text);
        if (fault === 'reorder' && held !== null) sub.socket.send(held);
      });
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ data: { sendMessage: { id: `r_faulty:${n}` }, createRoom: { id: 'r_faulty' } } }));
    });
  });
  const wss = new WebSocketServer({ server: http, path: '/graphql' });
  wss.on('connection', (socket) => {
    socket.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { type: string; id?: string };
      if (msg.type === 'connection_init') socket.send('{"type":"connection_ack"}');
      if (msg.type === 'subscribe' && msg.id) subs.push({ socket, id: msg.id });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    graphqlUrl: `http://127.0.0.1:${port}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    close: () =>
      new Promise((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        http.close(() => resolve());
      }),
  };
}

describe.each<[Fault, RegExp]>([
  ['drop', /lost/],
  ['duplicate', /duplicated/],
  ['reorder', /out of order/],
  ['foreign id', /lost.*unexpected frames/],
])('a server that delivers with a %s', (fault, problem) => {
  it('fails the run', async ({ expect }) => {
    const secret = randomBytes(32).toString('hex');
    const server = await faultyServer(fault);
    const generator = createGenerator();
    try {
      const open = { secret, document: 'fragment' as const, userOffset: 0, localAddresses: [], concurrency: 3, timeoutMs: 5_000 };
      await generator.open({ ...open, groups: [{ url: server.wsUrl, roomId: 'r_faulty', count: 3 }] });
      expect(await generator.probe({ url: server.graphqlUrl, secret, timeoutMs: 5_000 })).toMatchObject({ ok: true });
      const phase = await generator.run({
        graphqlUrl: server.graphqlUrl,
        wsUrl: server.wsUrl,
        transport: 'http',
        secret,
        load: { kind: 'rate', deliveriesPerSec: 60 },
        seconds: 0.2,
        warmup: false,
        serverPids: [],
        redisPid: null,
        drainTimeoutMs: 3_000,
        idleTimeoutMs: 500,
      });
      expect(correctnessProblems(phase).join('; ')).toMatch(problem);
    } finally {
      await generator.close();
      await server.close();
    }
  }, 15_000);
});

describe('the fragment document', () => {
  // The bench sends the document the README gives Apollo apps, so its figures are those apps' figures.
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const apollo = /```ts\n(?:(?!```)[\s\S])*fragment RoomEventFields(?:(?!```)[\s\S])*```/.exec(readme)?.[0];
  it('is the one the README gives Apollo apps', ({ expect }) => {
    expect(apollo, "README's Apollo setup spells out its fragment document").toBeDefined();
    const squash = (text: string): string =>
      text
        .replace(/\s+/g, ' ')
        .replace(/ ?([{}():,!$]) ?/g, '$1')
        .trim();
    expect(squash(apollo ?? '')).toContain(squash(FRAGMENT_DOCUMENT));
  });
});
