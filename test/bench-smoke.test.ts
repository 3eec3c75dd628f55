import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createGenerator, type Generator } from '../bench/generator/generator.ts';
import { createGraphqlHttp, createRoom } from '../bench/generator/publisher.ts';
import { startServer, type ServerHandle, type ServerKind } from '../bench/servers.ts';
import { signToken } from '../bench/tokens.ts';

/** The bench harness end to end at toy size: asserts correctness of every delivery, never speed. */
const SUBSCRIBERS = 20;
const MESSAGES = 20;

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

  it('delivers every message to every subscriber once, in order, then again after a reconnect storm', async ({ expect }) => {
    if (!server || !generator) throw new Error('setup failed');
    const opened = await generator.open({ groups: [{ url: server.wsUrl, roomId, count: SUBSCRIBERS }], secret, users: 5, concurrency: SUBSCRIBERS, timeoutMs: 10_000 });
    expect(opened).toMatchObject({ opened: SUBSCRIBERS, failed: 0 });
    expect(await generator.probe({ url: server.graphqlUrl, secret, timeoutMs: 10_000 })).toMatchObject({ ok: true, unprobed: 0 });

    const request = { url: server.graphqlUrl, secret, messages: MESSAGES, inflight: 4, drainTimeoutMs: 15_000, idleTimeoutMs: 3_000 };
    const run = await generator.run(request);
    expect(run).toMatchObject({
      messagesSent: MESSAGES, publishErrors: 0, expectedDeliveries: SUBSCRIBERS * MESSAGES, deliveries: SUBSCRIBERS * MESSAGES,
      lost: 0, duplicates: 0, outOfOrder: 0, misrouted: 0, drained: true, closes: {},
    });

    const storm = await generator.storm({ ...request, openConcurrency: SUBSCRIBERS, openTimeoutMs: 10_000 });
    expect(storm).toMatchObject({
      messagesSent: MESSAGES, publishErrors: 0, deliveries: SUBSCRIBERS * MESSAGES, lost: 0, duplicates: 0, outOfOrder: 0,
      reconnectFailures: 0, drained: true,
    });
  }, 60_000);
});
