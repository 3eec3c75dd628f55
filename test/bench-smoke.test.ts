import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createGenerator, type Generator, type PhaseRequest } from '../bench/generator/generator.ts';
import { createGraphqlHttp, createRoom } from '../bench/generator/publisher.ts';
import { correctnessProblems } from '../bench/scenarios.ts';
import { startServer, type ServerHandle, type ServerKind } from '../bench/servers.ts';
import { signToken } from '../bench/tokens.ts';

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
    expect(await generator.open({ ...open, groups: group, document: 'fragment', userOffset: 0 })).toMatchObject({ opened: PER_DOCUMENT, failed: 0 });
    expect(await generator.open({ ...open, groups: group, document: 'inline', userOffset: PER_DOCUMENT })).toMatchObject({ opened: PER_DOCUMENT, failed: 0 });
    expect(await generator.probe({ url: server.graphqlUrl, secret, timeoutMs: 10_000 })).toMatchObject({ ok: true, unprobed: 0 });

    const base: Omit<PhaseRequest, 'transport' | 'load'> = {
      graphqlUrl: server.graphqlUrl, wsUrl: server.wsUrl, secret, seconds: 1, warmup: false,
      serverPids: [server.pid], redisPid: null, drainTimeoutMs: 15_000, idleTimeoutMs: 3_000,
    };
    // 20 messages/s to 20 subscribers: 20 messages in the one second, each due at its own slot.
    const paced = await generator.run({ ...base, transport: 'http', load: { kind: 'rate', deliveriesPerSec: 400 } });
    expect(correctnessProblems(paced)).toEqual([]);
    expect(paced).toMatchObject({ messagesSent: 20, offeredMessagesPerSec: 20, expectedDeliveries: 20 * SUBSCRIBERS, deliveries: 20 * SUBSCRIBERS, lost: 0 });
    expect(paced.latency.count).toBe(paced.deliveries);
    expect(paced.serverCpuMs).not.toBeNull();

    const saturated = await generator.run({ ...base, transport: 'ws', load: { kind: 'saturate', inflight: 4 } });
    expect(correctnessProblems(saturated)).toEqual([]);
    expect(saturated.messagesSent).toBeGreaterThan(0);
    expect(saturated).toMatchObject({ deliveries: saturated.messagesSent * SUBSCRIBERS, lost: 0, duplicates: 0, outOfOrder: 0 });
  }, 60_000);
});
