import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, type GraphQLResponse } from '../utils/http-client.ts';
import { freePort } from '../utils/free-port.ts';
import { startInstance, type Instance } from '../utils/instance.ts';
import { useRedis } from '../utils/redis-server.ts';
import { waitFor, within } from '../utils/wait.ts';
import { readSnippets, type Snippet } from './snippets.ts';
import { runShell, startApp, type App } from './workspace.ts';

/**
 * The README's code, run as a new user runs it. Every fenced block of README.md and docs/*.md carries a marker on
 * the line above it (docs/snippets.md):
 *
 *   <!-- snippet: shell [in=<dir>] -->   bash, in the workspace (or <dir> in it), must exit 0
 *   <!-- snippet: output -->             what the shell block before it prints (`<...>`: any non-blank run)
 *   <!-- snippet: file <dir>/<name> -->  a whole file of an app, written there
 *   <!-- snippet: start <dir> -->        the command that starts an app in <dir>; the scenarios below run it
 *   <!-- snippet: excerpt <path> -->     quoted from a file of this repository: must appear in it
 *   <!-- snippet: not-run (<reason>) --> shown only; the reason names the test that covers it, or why none can
 *
 * A block without a marker fails the first test, so no copyable block goes untested by accident. The README's
 * blocks run in document order in a temporary workspace that holds a link named `realtime-chat-graphql` to this
 * repository (the README's install lines name `../realtime-chat-graphql`), against a server this file starts: the
 * embedded default with its dev tokens, later one on its own redis-server. The only change made to any block is
 * `localhost:4000` -> the server's 127.0.0.1:<port>. npm gets `prefer-offline` (and no audit or fund) through its
 * environment; the apps' folders get nothing but what the install lines name.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const DOCUMENTS = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];
const parsed = DOCUMENTS.map((file) => readSnippets(root, file));
const all = parsed.flatMap((document) => document.snippets);
const readme = parsed[0]?.snippets ?? [];

const redisServer = useRedis();
let port = 0;
let workspace = '';
let server: Instance | undefined;

const toServer = (code: string) => code.replaceAll('localhost:4000', `127.0.0.1:${port}`);
const origin = () => `http://127.0.0.1:${port}`;

/** The embedded default as `npm start` runs it: no JWT_SECRET (the dev secret and POST /dev/token), no NODE_ENV. */
async function startServer(env: Record<string, string> = {}) {
  server = await startInstance({ port, env: { NODE_ENV: '', JWT_SECRET: '', LOG_LEVEL: 'warn', ...env }, disposeAfterTest: false });
  return server;
}

async function stopServer(signal: NodeJS.Signals = 'SIGTERM') {
  if (!server) return;
  server.kill(signal);
  await server.exited;
  server = undefined;
}

async function devToken(name: string): Promise<string> {
  const response = await fetch(`${origin()}/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
    signal: AbortSignal.timeout(5_000),
  });
  return ((await response.json()) as { token: string }).token;
}

/** Sends as Hopper, retried with its clientMessageId while the server restarts (refused) until it is accepted. */
async function send(roomId: string, body: string): Promise<string> {
  const clientMessageId = randomUUID();
  let id: string | undefined;
  await waitFor(
    async () => {
      let response: GraphQLResponse<{ sendMessage: { id: string } }>;
      try {
        response = await gql(
          `${origin()}/graphql`,
          'mutation($roomId: ID!, $body: String!, $id: ID) { sendMessage(roomId: $roomId, body: $body, clientMessageId: $id) { id } }',
          { roomId, body, id: clientMessageId },
          await devToken('Hopper'),
        );
      } catch {
        return false;
      }
      if (response.errors) throw new Error(`sendMessage: ${JSON.stringify(response.errors)}`);
      id = response.data?.sendMessage.id;
      return id !== undefined;
    },
    30_000,
    `sendMessage "${body}" to be accepted`,
  );
  return id as string;
}

async function online(roomId: string): Promise<string[]> {
  const response = await gql<{ room: { online: Array<{ user: { id: string } }> } | null }>(
    `${origin()}/graphql`,
    'query($id: ID!) { room(id: $id) { online { user { id } } } }',
    { id: roomId },
    await devToken('Hopper'),
  );
  return response.data?.room?.online.map((presence) => presence.user.id) ?? [];
}

/** The message lines an app printed: `<id> <body>`. */
const messageLines = (app: App) => app.lines().filter((line) => /^r_\S+:\d+ /.test(line));

function startCommand(dir: string, file: string): string {
  const block = readme.find((s) => s.marker.kind === 'start' && s.marker.dir === dir && s.code.includes(file));
  if (!block) throw new Error(`README has no start block for ${dir}/${file}`);
  return block.code.trim();
}

/** Starts the README's app, reads the room it prints and waits until its user is in the room (its subscription is live). */
async function watchRoom(dir: string, file: string, user: string, args: string[] = []) {
  const app = startApp(workspace, dir, startCommand(dir, file), args);
  const roomId = (await app.waitForLine(/^room (\S+)$/, 30_000))[1] as string;
  await waitFor(async () => (await online(roomId)).includes(user), 30_000, `${user} to be online in ${roomId}`);
  return { app, roomId };
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const matches = (pattern: string, line: string) =>
  new RegExp(
    `^${pattern
      .split(/<[^>]+>/)
      .map(escape)
      .join('\\S+')}$`,
  ).test(line);

describe('fenced blocks in README.md and docs/*.md', () => {
  it('each carries a snippet marker, so none goes untested by accident', () => {
    expect(parsed.flatMap((document) => document.problems)).toEqual([]);
    expect(readme.length).toBeGreaterThan(10);
  });

  it('an output block follows a shell block, and every app folder the README writes is started by a start block', () => {
    for (const document of parsed) {
      document.snippets.forEach((snippet, i) => {
        if (snippet.marker.kind === 'output') expect(document.snippets[i - 1]?.marker.kind, snippet.where).toBe('shell');
      });
    }
    const dirs = new Set(readme.flatMap((s) => (s.marker.kind === 'file' ? [dirname(s.marker.path)] : [])));
    const started = new Set(readme.flatMap((s) => (s.marker.kind === 'start' ? [s.marker.dir] : [])));
    expect([...dirs].sort()).toEqual([...started].sort());
  });

  it('each excerpt appears as written in the file it quotes, and each not-run names tests that exist', () => {
    const normalise = (text: string) =>
      text
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean)
        .join('\n');
    for (const snippet of all) {
      if (snippet.marker.kind === 'excerpt') {
        expect(normalise(readFileSync(join(root, snippet.marker.path), 'utf8')), snippet.where).toContain(normalise(snippet.code));
      }
      if (snippet.marker.kind === 'not-run') {
        for (const path of snippet.marker.reason.match(/\b(?:test|src|scripts|bench)\/[\w./-]+\.(?:ts|js)\b/g) ?? []) {
          expect(existsSync(join(root, path)), `${snippet.where} names ${path}`).toBe(true);
        }
      }
    }
  });
});

describe('the README, run as written in an empty folder next to the clone', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    workspace = mkdtempSync(join(tmpdir(), 'readme-snippets-'));
    symlinkSync(root, join(workspace, 'realtime-chat-graphql'));
    port = await freePort();
    await startServer();
  });
  afterAll(async () => {
    await server?.dispose();
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  // In document order: the tour's curl commands, each app's install line, its files, its type check.
  readme.forEach((snippet, i) => {
    if (snippet.marker.kind === 'file') {
      const path = snippet.marker.path;
      it(`${snippet.where}: writes ${path}`, () => {
        mkdirSync(join(workspace, dirname(path)), { recursive: true });
        writeFileSync(join(workspace, path), toServer(snippet.code));
      });
    }
    if (snippet.marker.kind === 'shell') {
      const { dir } = snippet.marker;
      const expected: Snippet | undefined = readme[i + 1]?.marker.kind === 'output' ? readme[i + 1] : undefined;
      it(`${snippet.where}: runs in ${dir}${expected ? ' and prints what the README shows' : ''}`, async () => {
        // Generous: an install may have to reach the registry for what the cache lacks.
        const result = await runShell(toServer(snippet.code), join(workspace, dir), 240_000);
        expect(result.code, `${snippet.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`).toBe(0);
        if (expected) {
          const want = expected.code.split('\n').filter(Boolean);
          const got = result.stdout.split('\n').filter(Boolean);
          expect(got.length, result.stdout).toBe(want.length);
          want.forEach((pattern, n) => expect(matches(pattern, got[n] ?? ''), `${got[n]} vs ${pattern}`).toBe(true));
        }
      });
    }
  });

  it.each([
    ['chat-apollo', 'watch-room.ts', 'ada', 'Apollo Client 4'],
    ['chat-urql', 'urql-app.ts', 'grace', 'urql 6'],
  ])(
    '%s/%s (%s): each message once, in order; `after` replays what followed; a restart of the embedded default ends in NOT_FOUND, not retries',
    async (dir, file, user) => {
      const { app, roomId } = await watchRoom(dir, file, user);
      const ids = [await send(roomId, 'one'), await send(roomId, 'two'), await send(roomId, 'three')];
      const expected = ids.map((id, n) => `${id} ${['one', 'two', 'three'][n]}`);
      await waitFor(() => messageLines(app).length >= 3, 15_000, `${file} to print three messages`);
      expect(messageLines(app)).toEqual(expected);

      // `<roomId> <after>`: starts after the first message, so it prints the two that followed.
      const resumed = startApp(workspace, dir, startCommand(dir, file), [roomId, ids[0] as string]);
      await waitFor(() => messageLines(resumed).length >= 2, 30_000, `${file} ${roomId} ${ids[0]} to print two messages`);
      expect(messageLines(resumed)).toEqual(expected.slice(1));

      // The embedded default forgets the room when it restarts: each app gets NOT_FOUND once and exits.
      await stopServer();
      await startServer();
      for (const each of [app, resumed]) {
        expect(await within(each.exited, 30_000, `${file} to exit after the restart`)).toBe(1);
        expect(each.stderr()).toMatch(new RegExp(`^error NOT_FOUND: .*room ${escape(roomId)} does not exist\\n$`));
      }
      expect(messageLines(app)).toEqual(expected);
      expect(messageLines(resumed)).toEqual(expected.slice(1));
    },
  );

  it.each([
    ['chat-apollo', 'watch-room.ts', 'ada'],
    ['chat-urql', 'urql-app.ts', 'grace'],
  ])('%s/%s with REDIS_URL: a killed and a stopped server lose nothing, duplicate nothing', async (dir, file, user) => {
    const redis = redisServer();
    const prefix = redis.newPrefix();
    await stopServer();
    await startServer({ REDIS_URL: redis.url, REDIS_PREFIX: prefix });
    try {
      const { app, roomId } = await watchRoom(dir, file, user);
      const sent: string[] = [];
      const sendSome = async (from: number) => {
        for (let n = from; n < from + 8; n += 1) sent.push(`${await send(roomId, `m${n}`)} m${n}`);
      };
      await sendSome(0);
      // A crash, then a graceful stop (1001), each while messages keep coming: the app must resume after each.
      for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
        await stopServer(signal);
        const restarted = startServer({ REDIS_URL: redis.url, REDIS_PREFIX: prefix });
        await sendSome(sent.length);
        await restarted;
        await sendSome(sent.length);
      }
      await waitFor(() => messageLines(app).length >= sent.length, 60_000, `${file} to print all ${sent.length} messages`);
      expect(messageLines(app)).toEqual(sent);
    } finally {
      await stopServer();
      await startServer();
      await redis.deleteKeys(prefix);
    }
  });

  it('chat-apollo/user-events.ts prints a room made available to Ada and a message that mentions @ada', async () => {
    const app = startApp(workspace, 'chat-apollo', startCommand('chat-apollo', 'user-events.ts'), []);
    await app.waitForLine(/^watching user events$/, 30_000);
    // userEvents is live only and says nothing when it is subscribed: create rooms until one is printed.
    let roomId = '';
    await waitFor(
      async () => {
        const created = await gql<{ createRoom: { id: string } }>(
          `${origin()}/graphql`,
          'mutation { createRoom(name: "for ada") { id } }',
          {},
          await devToken('Hopper'),
        );
        roomId = created.data?.createRoom.id ?? '';
        await new Promise((resolve) => setTimeout(resolve, 300));
        return app.lines().some((line) => line.startsWith('room available:'));
      },
      20_000,
      'user-events.ts to print a room',
    );
    const printedRoom = /^room available: for ada (\S+)$/.exec(app.lines().find((line) => line.startsWith('room available:')) ?? '');
    expect(printedRoom?.[1]).toMatch(/^r_/);
    await send(roomId, 'look @ada');
    await app.waitForLine(new RegExp(`^mentioned by Hopper in ${roomId}: look @ada$`), 15_000);
  });

  it("chat-apollo/edit-document.ts appends its line and prints the text at every version: its own edit, another user's, a second editor's", async () => {
    const command = startCommand('chat-apollo', 'edit-document.ts');
    const app = startApp(workspace, 'chat-apollo', command, []);
    const documentId = (await app.waitForLine(/^document (\S+)$/, 30_000))[1] as string;
    await app.waitForLine(/^1: Hello from Ada$/, 30_000);
    const graphqlUrl = `${origin()}/graphql`;
    const hopper = await devToken('Hopper');
    const edit = await gql(
      graphqlUrl,
      'mutation($id: ID!) { editDocument(documentId: $id, baseVersion: 1, operation: [{ insert: "> " }]) { version } }',
      { id: documentId },
      hopper,
    );
    expect(edit.errors).toBeUndefined();
    await app.waitForLine(/^2: > Hello from Ada$/, 15_000);
    const second = startApp(workspace, 'chat-apollo', command, [documentId, 'and again']);
    await second.waitForLine(/^3: > Hello from Ada and again$/, 30_000);
    await app.waitForLine(/^3: > Hello from Ada and again$/, 15_000);
    const stored = await gql(graphqlUrl, 'query($id: ID!) { document(id: $id) { text version } }', { id: documentId }, hopper);
    expect(stored.data).toEqual({ document: { text: '> Hello from Ada and again', version: 3 } });
    expect(app.lines().filter((line) => /^\d+: /.test(line))).toEqual([
      '1: Hello from Ada',
      '2: > Hello from Ada',
      '3: > Hello from Ada and again',
    ]);
  });
});
