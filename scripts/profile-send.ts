/**
 * What one `sendMessage` costs the server, end to end: N messages through a real app (memory, or a real
 * redis-server started here on a free port), sent over HTTP or over WebSocket, delivered to M subscribers per room.
 *
 *   node --import tsx scripts/profile-send.ts [--root DIR] [--mode memory|redis|both] [--transport http|ws|both]
 *        [--messages 5000] [--rooms 20] [--subscribers 5] [--window 4] [--rate-http 0] [--rate-ws 0] [--runs 3]
 *
 * The app runs in this process and the load generator in a child process, so `process.cpuUsage()` deltas are the
 * server's CPU alone. Redis round trips are counted in a second, shorter phase with `redis-cli MONITOR` (commands
 * a client sent; those a Lua script ran are tagged `lua` and not counted), so MONITOR never slows the CPU phase.
 * `--root` points at another checkout (e.g. `git archive <commit> | tar -x -C /tmp/base` plus a node_modules
 * symlink) so before and after are measured by the same script on the same machine state.
 * `--rate-http` / `--rate-ws`: messages per second offered in the measured phases (0: as fast as `--window`
 * sends in flight per room allow). Compare before and after at a fixed rate: at saturation, CPU per message also
 * measures how well each version batches (Redis's CPU per message is mostly wake-ups at low rates).
 * Prints one JSON line per (mode, transport, run) and a summary of medians.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import WebSocket from 'ws';

const SECRET = 'profile-secret-0123456789abcdef0123456789abcdef';
const SUBSCRIPTION =
  'subscription Watch($roomId: ID!) { roomEvents(roomId: $roomId) { __typename ...RoomEventFields } } ' +
  'fragment RoomEventFields on RoomEvent { ... on MessageSent { message { id roomId body sentAt author { id name } } } }';
const SEND =
  'mutation Send($roomId: ID!, $body: String!, $clientMessageId: ID) { sendMessage(roomId: $roomId, body: $body, clientMessageId: $clientMessageId) { id sentAt } }';

type Mode = 'memory' | 'redis';
type Transport = 'http' | 'ws';
interface LoadOptions {
  url: string;
  transport: Transport;
  messages: number;
  countMessages: number;
  rooms: number;
  subscribers: number;
  window: number;
  /** Messages per second offered in the measured phases; 0: as fast as `window` sends in flight per room allow. */
  rate: number;
}
type ToParent =
  { type: 'ready'; phase: string } | { type: 'done'; phase: string; ms: number; deliveries: number } | { type: 'failed'; error: string };
type ToChild = { type: 'go' };

function argv(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] !== undefined ? (process.argv[at + 1] as string) : fallback;
}

const sign = (sub: string) =>
  new SignJWT({ name: sub })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(SECRET));

// ---------------------------------------------------------------------------------------------- load generator

interface Socket {
  ws: WebSocket;
  send(message: object): void;
}

async function connect(
  url: string,
  token: string,
  onMessage: (message: { type: string; id?: string; payload?: unknown }) => void,
): Promise<Socket> {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + '/graphql', 'graphql-transport-ws');
  await once(ws, 'open');
  const send = (message: object) => ws.send(JSON.stringify(message));
  const acked = new Promise<void>((resolveAck, reject) => {
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; id?: string; payload?: unknown };
      if (message.type === 'connection_ack') resolveAck();
      else if (message.type === 'ping') send({ type: 'pong' });
      else onMessage(message);
    });
    ws.once('close', (code) => reject(new Error(`socket closed ${code}`)));
  });
  send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
  await acked;
  return { ws, send };
}

async function runLoad(options: LoadOptions): Promise<void> {
  const post = async (token: string, query: string, variables: object) => {
    const response = await fetch(`${options.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const result = (await response.json()) as { data?: Record<string, { id: string }>; errors?: unknown[] };
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data as Record<string, { id: string }>;
  };
  const senderTokens = await Promise.all(Array.from({ length: options.rooms }, (_, n) => sign(`sender${n}`)));
  const roomIds: string[] = [];
  for (let n = 0; n < options.rooms; n++) {
    roomIds.push((await post(senderTokens[n] as string, `mutation { createRoom(name: "p${n}") { id } }`, {})).createRoom!.id);
  }

  // Subscribers: one user per socket (presence on), the fragment document, random operation ids.
  let deliveries = 0;
  let expected = 0;
  let onDelivery: () => void = () => undefined;
  const subscribers: Socket[] = [];
  const live = new Set<number>();
  for (let r = 0; r < options.rooms; r++) {
    for (let s = 0; s < options.subscribers; s++) {
      const index = subscribers.length;
      const socket = await connect(options.url, await sign(`u${r}-${s}`), (message) => {
        if (message.type !== 'next') return;
        const data = (message.payload as { data?: { roomEvents?: { __typename: string } } }).data;
        if (data?.roomEvents?.__typename !== 'MessageSent') return;
        live.add(index);
        deliveries += 1;
        if (deliveries >= expected) onDelivery();
      });
      socket.send({ id: randomUUID(), type: 'subscribe', payload: { query: SUBSCRIPTION, variables: { roomId: roomIds[r] } } });
      subscribers.push(socket);
    }
  }

  // Senders: one user per room; over WebSocket one socket each, the mutation sent as graphql-ws clients do.
  const pending = new Map<string, () => void>();
  const wsSenders: Socket[] = [];
  if (options.transport === 'ws') {
    for (let r = 0; r < options.rooms; r++) {
      wsSenders.push(
        await connect(options.url, senderTokens[r] as string, (message) => {
          if (message.type === 'complete' && message.id) pending.get(message.id)?.();
          if (message.type === 'error') throw new Error(JSON.stringify(message.payload));
        }),
      );
    }
  }
  let sent = 0;
  const sendOne = (room: number, body: string): Promise<void> => {
    sent += 1;
    const variables = { roomId: roomIds[room], body, clientMessageId: `c${sent}` };
    if (options.transport === 'http') return post(senderTokens[room] as string, SEND, variables).then(() => undefined);
    const id = randomUUID();
    return new Promise<void>((done) => {
      pending.set(id, () => {
        pending.delete(id);
        done();
      });
      (wsSenders[room] as Socket).send({ id, type: 'subscribe', payload: { query: SEND, variables } });
    });
  };

  /** `count` messages, spread over the rooms, `window` in flight per room; resolves once every delivery arrived. */
  const phase = async (count: number): Promise<{ ms: number; deliveries: number }> => {
    const before = deliveries;
    expected = deliveries + count * options.subscribers;
    const delivered = new Promise<void>((resolveDelivered) => {
      onDelivery = resolveDelivered;
      if (deliveries >= expected) resolveDelivered();
    });
    const started = performance.now();
    const body = (n: number) => `message ${n} of the profile, a body of typical length`;
    if (rate > 0) {
      // A fixed offered rate, rooms in turn: before and after do the same work per second, so CPU per message
      // compares costs, not how well each batches under saturation.
      const sends: Promise<void>[] = [];
      while (sends.length < count) {
        const due = Math.min(count, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
        while (sends.length < due) sends.push(sendOne(sends.length % options.rooms, body(sends.length)));
        await new Promise((r) => setTimeout(r, 1));
      }
      await Promise.all(sends);
    } else {
      let next = 0;
      const lane = async (room: number) => {
        while (next < count) {
          next += 1;
          await sendOne(room, body(next));
        }
      };
      const lanes: Promise<void>[] = [];
      for (let r = 0; r < options.rooms; r++) for (let w = 0; w < options.window; w++) lanes.push(lane(r));
      await Promise.all(lanes);
    }
    const timeout = setTimeout(
      () => process.send?.({ type: 'failed', error: `deliveries stuck at ${deliveries - before}` } satisfies ToParent),
      30_000,
    );
    await delivered;
    clearTimeout(timeout);
    return { ms: performance.now() - started, deliveries: deliveries - before };
  };

  // Every subscription live (a probe per room reaches every subscriber), then the JIT warm (unpaced).
  let rate = 0;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  while (live.size < subscribers.length) {
    await Promise.all(roomIds.map((_, room) => sendOne(room, 'probe')));
    await sleep(100);
  }
  await sleep(200);
  await phase(Math.max(options.rooms * 20, 500));
  rate = options.rate;
  const go = () => new Promise<void>((resolveGo) => process.once('message', (message: ToChild) => message.type === 'go' && resolveGo()));
  for (const [name, count] of [
    ['cpu', options.messages],
    ['count', options.countMessages],
  ] as const) {
    const started = go();
    process.send?.({ type: 'ready', phase: name } satisfies ToParent);
    await started;
    const result = await phase(count);
    process.send?.({ type: 'done', phase: name, ...result } satisfies ToParent);
  }
  for (const socket of [...subscribers, ...wsSenders]) socket.ws.close();
}

// ----------------------------------------------------------------------------------------------------- server

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

async function startRedis(): Promise<{ port: number; child: ChildProcess; call(...args: string[]): Promise<string> }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  process.once('exit', () => child.kill('SIGKILL'));
  const call = (...args: string[]) =>
    new Promise<string>((resolveCall, reject) => {
      const cli = spawn('redis-cli', ['-p', String(port), ...args]);
      let out = '';
      cli.stdout.on('data', (chunk: Buffer) => (out += String(chunk)));
      cli.once('exit', (code) => (code === 0 ? resolveCall(out) : reject(new Error(`redis-cli exit ${code}`))));
    });
  for (let attempt = 0; ; attempt++) {
    if ((await call('PING').catch(() => '')).trim() === 'PONG') break;
    if (attempt > 100) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, child, call };
}

/** Client-sent commands while MONITOR runs, by name; commands run inside Lua are tagged `[db lua]` and skipped. */
function monitor(port: number) {
  // Line-buffered: block buffering into a pipe can hold the last lines (the end marker) back indefinitely.
  const cli = spawn('stdbuf', ['-oL', 'redis-cli', '-p', String(port), 'MONITOR']);
  const counts = new Map<string, number>();
  let buffer = '';
  let sawEnd: () => void = () => undefined;
  const ended = new Promise<void>((r) => (sawEnd = r));
  const started = new Promise<void>((r) => cli.stdout.once('data', () => r()));
  cli.stdout.on('data', (chunk: Buffer) => {
    buffer += String(chunk);
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      const match = /^\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]+)"(?: "([^"]*)")?/.exec(line);
      if (!match || match[1] === 'lua') continue;
      const name = (match[2] as string).toLowerCase();
      if (name === 'echo' && match[3] === 'profile-end') sawEnd();
      else counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  });
  return { started, ended, counts, stop: () => cli.kill('SIGKILL') };
}

const redisCpu = async (call: (...args: string[]) => Promise<string>) => {
  const info = await call('INFO', 'cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
};

async function profile(root: string, mode: Mode, transport: Transport, load: Omit<LoadOptions, 'url' | 'transport'>) {
  const redis = mode === 'redis' ? await startRedis() : null;
  const { loadConfig } = (await import(resolve(root, 'src/config.ts'))) as typeof import('../src/config.ts');
  const { createApp } = (await import(resolve(root, 'src/app.ts'))) as typeof import('../src/app.ts');
  const { createLogger } = (await import(resolve(root, 'src/observability/logger.ts'))) as typeof import('../src/observability/logger.ts');
  const config = loadConfig({
    NODE_ENV: 'production',
    JWT_SECRET: SECRET,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    MESSAGE_RATE: '1000000',
    ROOM_RATE: '100000',
    FRAME_RATE: '1000000',
    MAX_CONNECTIONS_PER_ADDRESS: '100000',
    ...(redis ? { REDIS_URL: `redis://127.0.0.1:${redis.port}`, REDIS_PREFIX: `profile-${process.pid}:` } : {}),
  });
  const app = await createApp(config, createLogger('warn', true));
  const { url } = await app.listen();
  const child = fork(fileURLToPath(import.meta.url), ['--client'], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const results: Record<string, number> = {};
  let cpuAt = process.cpuUsage();
  let redisCpuAt = 0;
  let watch: ReturnType<typeof monitor> | null = null;
  let lastPhaseDone = false;
  await new Promise<void>((resolveRun, reject) => {
    child.on('message', (message: ToParent) => {
      void (async () => {
        if (message.type === 'failed') return reject(new Error(message.error));
        if (message.type === 'ready') {
          if (message.phase === 'count' && redis) {
            watch = monitor(redis.port);
            await watch.started;
          }
          if (redis) redisCpuAt = await redisCpu(redis.call);
          cpuAt = process.cpuUsage();
          child.send({ type: 'go' } satisfies ToChild);
          return;
        }
        if (message.phase === 'cpu') {
          const cpu = process.cpuUsage(cpuAt);
          const perMessage = (cpu.user + cpu.system) / load.messages;
          results.serverCpuUsPerMessage = Math.round(perMessage);
          results.messagesPerSecond = Math.round((load.messages / message.ms) * 1000);
          results.deliveries = message.deliveries;
          if (redis) results.redisCpuUsPerMessage = Math.round((((await redisCpu(redis.call)) - redisCpuAt) * 1e6) / load.messages);
          return;
        }
        lastPhaseDone = true;
        const counting = watch as ReturnType<typeof monitor> | null;
        if (counting && redis) {
          await redis.call('ECHO', 'profile-end');
          await Promise.race([
            counting.ended,
            new Promise((_, fail) => setTimeout(() => fail(new Error('MONITOR end marker not seen')), 15_000)),
          ]);
          counting.stop();
          let total = 0;
          for (const [name, count] of counting.counts) {
            results[`rt.${name}`] = Number((count / load.countMessages).toFixed(2));
            total += count;
          }
          results.redisRoundTripsPerMessage = Number((total / load.countMessages).toFixed(2));
        }
        resolveRun();
      })().catch(reject);
    });
    // A load generator gone before its last phase is a failure, whatever its exit code.
    child.once('exit', (code) => lastPhaseDone || reject(new Error(`load generator exited (${code}) before its last phase`)));
    child.send({ ...load, url, transport });
  });
  await once(child, 'exit');
  await app.stop();
  redis?.child.kill('SIGKILL');
  return results;
}

async function main() {
  if (process.argv.includes('--client')) {
    // The server side gave up (or was killed): nothing left to measure.
    process.once('disconnect', () => process.exit(1));
    const [options] = (await once(process, 'message')) as [LoadOptions];
    await runLoad(options).catch((error: unknown) => {
      process.send?.({ type: 'failed', error: String(error) } satisfies ToParent);
      process.exitCode = 1;
    });
    process.removeAllListeners('disconnect');
    process.disconnect();
    return;
  }
  const root = resolve(argv('root', fileURLToPath(new URL('..', import.meta.url))));
  const modes = (argv('mode', 'both') === 'both' ? ['memory', 'redis'] : [argv('mode', 'memory')]) as Mode[];
  const transports = (argv('transport', 'both') === 'both' ? ['http', 'ws'] : [argv('transport', 'ws')]) as Transport[];
  const messages = Number(argv('messages', '5000'));
  const load = {
    messages,
    countMessages: Math.min(messages, 500),
    rooms: Number(argv('rooms', '20')),
    subscribers: Number(argv('subscribers', '5')),
    window: Number(argv('window', '4')),
  };
  const rates = { http: Number(argv('rate-http', '0')), ws: Number(argv('rate-ws', '0')) };
  const runs = Number(argv('runs', '3'));
  const all: Array<{ key: string; result: Record<string, number> }> = [];
  for (let run = 0; run < runs; run++) {
    for (const mode of modes) {
      for (const transport of transports) {
        const result = await profile(root, mode, transport, { ...load, rate: rates[transport] });
        const key = `${mode}/${transport}`;
        all.push({ key, result });
        console.log(JSON.stringify({ root, run, key, ...load, rate: rates[transport], ...result }));
      }
    }
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
  for (const key of new Set(all.map((entry) => entry.key))) {
    const results = all.filter((entry) => entry.key === key).map((entry) => entry.result);
    const fields = [...new Set(results.flatMap((result) => Object.keys(result)))];
    const summary = Object.fromEntries(fields.map((field) => [field, median(results.map((result) => result[field] ?? NaN))]));
    console.log(`median ${key}: ${JSON.stringify(summary)}`);
  }
  process.exit(0);
}

await main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
