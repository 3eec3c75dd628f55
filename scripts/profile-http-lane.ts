/**
 * Server CPU per `sendMessage` over HTTP, through Yoga's Fetch adapter and through the HTTP lane, measured in one
 * process so both see the same machine state:
 *
 *   node --import tsx scripts/profile-http-lane.ts [--requests 2000] [--rounds 8] [--concurrency 16]
 *
 * Two apps in this process (memory backend, no subscribers): one built with `httpLane: false`, one with the lane.
 * A child process (the load generator, keep-alive connections) sends `--requests` mutations to one, then to the
 * other, for `--rounds` alternating rounds; each round's CPU is this process's `process.cpuUsage()` delta. Prints
 * the median and the spread per path, and the ratio of the medians.
 */
import { fork } from 'node:child_process';
import { request as httpRequest, Agent } from 'node:http';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { createApp } from '../src/app.ts';
import { silentLogger } from '../src/chat/logger.ts';
import { loadConfig } from '../src/config.ts';

const SECRET = 'lane-profile-secret-0123456789abcdef0123456789';
const SEND = 'mutation Send($roomId: ID!, $body: String!) { sendMessage(roomId: $roomId, body: $body) { id sentAt } }';

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

interface Round {
  url: string;
  roomId: string;
  requests: number;
}

/** The load generator: `concurrency` requests in flight over keep-alive connections, every answer checked. */
async function generate(token: string, concurrency: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const post = (url: string, body: string) =>
    new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        url,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () =>
            res.statusCode === 200 && !text.includes('"errors"') ? resolve() : reject(new Error(`${res.statusCode}: ${text}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  process.on('message', (round: Round) => {
    let sent = 0;
    const worker = async () => {
      while (sent < round.requests) {
        sent += 1;
        await post(
          round.url,
          JSON.stringify({ query: SEND, variables: { roomId: round.roomId, body: `hello ${sent}` }, operationName: 'Send' }),
        );
      }
    };
    Promise.all(Array.from({ length: concurrency }, worker)).then(
      () => process.send?.('done'),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}

const concurrency = arg('concurrency', 16);
const token = await new SignJWT({ name: 'Profiler' })
  .setProtectedHeader({ alg: 'HS256' })
  .setSubject('profiler')
  .setExpirationTime('1h')
  .sign(new TextEncoder().encode(SECRET));

if (process.argv.includes('--generator')) {
  await generate(token, concurrency);
} else {
  const requests = arg('requests', 2000);
  const rounds = arg('rounds', 8);
  const config = loadConfig({
    JWT_SECRET: SECRET,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    MESSAGE_RATE: '100000000',
    MESSAGE_BURST: '100000000',
    HISTORY_LIMIT: '1000',
  });
  const paths: Record<string, { url: string; roomId: string; samples: number[] }> = {};
  const stops: Array<() => Promise<void>> = [];
  for (const [name, httpLane] of [
    ['Yoga adapter', false],
    ['HTTP lane', true],
  ] as const) {
    const app = await createApp(config, silentLogger, { httpLane });
    const { url } = await app.listen();
    stops.push(() => app.stop());
    const created = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'mutation { createRoom(name: "profile") { id } }' }),
    });
    const { data } = (await created.json()) as { data: { createRoom: { id: string } } };
    paths[name] = { url: `${url}/graphql`, roomId: data.createRoom.id, samples: [] };
  }
  const child = fork(fileURLToPath(import.meta.url), ['--generator', '--concurrency', String(concurrency)], {
    execArgv: ['--import', 'tsx'],
  });
  const round = (path: { url: string; roomId: string }) =>
    new Promise<number>((resolve) => {
      const before = process.cpuUsage();
      child.once('message', () => {
        const used = process.cpuUsage(before);
        resolve((used.user + used.system) / requests);
      });
      child.send({ url: path.url, roomId: path.roomId, requests } satisfies Round);
    });
  for (const path of Object.values(paths)) await round(path); // warm-up, not counted
  for (let i = 0; i < rounds; i++) for (const path of Object.values(paths)) path.samples.push(await round(path));
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  for (const [name, path] of Object.entries(paths)) {
    const sorted = [...path.samples].sort((a, b) => a - b);
    console.log(
      `${name}: median ${median(sorted).toFixed(1)} µs of server CPU per request (min ${sorted[0]?.toFixed(1)}, max ${sorted.at(-1)?.toFixed(1)})`,
    );
  }
  const adapter = paths['Yoga adapter'] as { samples: number[] };
  const lane = paths['HTTP lane'] as { samples: number[] };
  console.log(`HTTP lane / Yoga adapter: ${(median(lane.samples) / median(adapter.samples)).toFixed(2)}x`);
  child.kill();
  for (const stop of stops) await stop();
}
