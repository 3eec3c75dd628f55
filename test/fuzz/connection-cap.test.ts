import { request, type ClientRequest } from 'node:http';
import fc from 'fast-check';
import { describe, it, onTestFinished } from 'vitest';
import { ROOM_EVENTS, metric } from '../utils/chat.ts';
import { useRedis, type RedisServer } from '../utils/redis-server.ts';
import { waitFor } from '../utils/wait.ts';
import { RawSocket } from './support/raw-ws.ts';
import { assertFuzz, fuzzParameters, fuzzTimeout } from './support/runs.ts';
import { FuzzTarget, type Mode } from './support/target.ts';

/**
 * MAX_CONNECTIONS holds whatever the transport: random mixes of WebSocket upgrades and SSE subscriptions (GET and
 * POST, with every Accept Yoga answers with a stream: text/event-stream in any case, text/*, *\/*, none), all held
 * open at once. However many are attempted, the streams the server accepted plus the honest client's socket never
 * exceed the cap; once they are released the counts come back and the honest client still receives.
 */
const FILE = 'test/fuzz/connection-cap.test.ts';
const RUNS = 25;
const MAX_CONNECTIONS = 4;

type Attempt = { via: 'ws' } | { via: 'sse'; method: 'GET' | 'POST'; accept: string | null };

const attemptArb: fc.Arbitrary<Attempt> = fc.oneof(
  fc.constant({ via: 'ws' as const }),
  fc.record({
    via: fc.constant('sse' as const),
    method: fc.constantFrom('GET', 'POST') as fc.Arbitrary<'GET' | 'POST'>,
    accept: fc.constantFrom(
      'text/event-stream',
      'TEXT/EVENT-STREAM',
      'Text/Event-Stream',
      'text/*',
      '*/*',
      'application/json, */*;q=0.1',
      null,
    ),
  }),
);

interface Held {
  accepted: boolean;
  release(): void;
}

async function openWs(target: FuzzTarget): Promise<Held> {
  const raw = RawSocket.open({ port: target.instance.port });
  const accepted = await raw.upgraded();
  return {
    accepted,
    release: () => {
      if (raw.isUpgraded) raw.close(1000);
      raw.end();
      setTimeout(() => raw.destroy(), 1_000).unref();
    },
  };
}

/** An SSE roomEvents subscription held open; accepted when the server answered 200 with an event stream. */
function openSse(target: FuzzTarget, method: 'GET' | 'POST', accept: string | null): Promise<Held> {
  const token = target.world.users[1]!.token;
  const variables = JSON.stringify({ roomId: target.lobby });
  const body = method === 'POST' ? JSON.stringify({ query: ROOM_EVENTS, variables: { roomId: target.lobby } }) : undefined;
  const url =
    method === 'GET'
      ? `${target.instance.graphqlUrl}?${new URLSearchParams({ query: ROOM_EVENTS, variables })}`
      : target.instance.graphqlUrl;
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (accept !== null) headers.accept = accept;
  if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
  return new Promise((resolve) => {
    // node:http rather than fetch: fetch would add `accept: */*` where the case says none.
    const req: ClientRequest = request(url, { agent: false, method, headers });
    const timer = setTimeout(() => req.destroy(), 5_000);
    const release = () => req.destroy();
    req.on('error', () => {
      clearTimeout(timer);
      resolve({ accepted: false, release });
    });
    req.on('response', (res) => {
      clearTimeout(timer);
      res.on('error', () => undefined);
      res.resume();
      const stream = res.statusCode === 200 && String(res.headers['content-type'] ?? '').includes('text/event-stream');
      if (!stream) req.destroy();
      resolve({ accepted: stream, release });
    });
    req.end(body);
  });
}

function fuzzCap(mode: Mode, redis?: () => RedisServer) {
  const name = `MAX_CONNECTIONS across WebSocket and SSE (${mode})`;
  it(
    `${name}: never more streams than the cap, whatever the Accept header`,
    async () => {
      const target = await FuzzTarget.start(mode, redis?.(), { MAX_CONNECTIONS: String(MAX_CONNECTIONS) });
      onTestFinished(() => target.dispose());
      let cases = 0;
      await assertFuzz(
        FILE,
        name,
        fc.asyncProperty(fc.array(attemptArb, { minLength: 1, maxLength: 8 }), async (attempts) => {
          cases += 1;
          const held: Held[] = [];
          try {
            // One at a time, as clients arriving one after another: each sees the count the previous left.
            for (const attempt of attempts) {
              const one = attempt.via === 'ws' ? await openWs(target) : await openSse(target, attempt.method, attempt.accept);
              target.count(`${attempt.via === 'ws' ? 'ws' : `sse accept=${attempt.accept}`} ${one.accepted ? 'accepted' : 'refused'}`);
              held.push(one);
            }
            const accepted = held.filter((h) => h.accepted).length;
            // The honest client's socket holds one slot.
            if (accepted + 1 > MAX_CONNECTIONS) {
              throw new Error(
                `[${mode}] case ${cases}: ${accepted} streams accepted beside the honest socket with MAX_CONNECTIONS=${MAX_CONNECTIONS}: ` +
                  attempts
                    .map(
                      (a, i) =>
                        `${a.via === 'ws' ? 'ws' : `sse ${a.method} accept=${a.accept}`}:${held[i]!.accepted ? 'accepted' : 'refused'}`,
                    )
                    .join(', '),
              );
            }
          } finally {
            for (const h of held) h.release();
          }
          // Released streams leave the counts (the honest socket and its subscription stay), bounded.
          await waitFor(
            async () =>
              (await metric(target.instance.url, 'chat_ws_connections')) === 1 &&
              (await metric(target.instance.url, 'chat_subscriptions')) === 1,
            10_000,
            'released streams to leave the connection and subscription counts',
          );
          await target.checkHealthy(`case ${cases}`);
        }),
        fuzzParameters(name, RUNS),
      ).finally(() => console.log(`[fuzz] ${name} reached: ${target.statsLine()}`));
    },
    fuzzTimeout(RUNS, 3_000),
  );
}

describe('protocol fuzz: connection cap, in memory', () => {
  fuzzCap('memory');
});

describe('protocol fuzz: connection cap, Redis mode', () => {
  const redis = useRedis();
  fuzzCap('redis', redis);
});
