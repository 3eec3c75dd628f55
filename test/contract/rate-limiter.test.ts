import { describe, expect, it } from 'vitest';
import { waitFor, within } from '../utils/wait.ts';
import { privateRedisServer, redisCluster, useBackends } from './backends.ts';
import { uniqueRoomId } from './recorder.ts';

const backends = useBackends();

describe.each(backends)('RateLimiter contract: $name', (backend) => {
  it('allows a burst, then refuses without taking, per key', async () => {
    // 0.01 token/s: nothing refills while the test runs, however slow the machine.
    const [node] = await backend.cluster(1, { messageRate: 0.01, messageBurst: 3 });
    const key = uniqueRoomId();
    const takes = [];
    for (let n = 0; n < 5; n++) takes.push(await node!.messageRate.take(key));
    expect(takes).toEqual([true, true, true, false, false]);
    expect(await node!.messageRate.take(`${key}-other`)).toBe(true);
  });

  it('shares one bucket between nodes', async () => {
    const [a, b] = await backend.cluster(2, { messageRate: 0.01, messageBurst: 4 });
    const key = uniqueRoomId();
    const takes = await Promise.all([a, b, a, b, a, b].map((node) => node!.messageRate.take(key)));
    expect(takes.filter(Boolean)).toHaveLength(4);
  });

  it('keeps one bucket per limit: ROOM_RATE (a minute), TYPING_RATE and MESSAGE_RATE never share one', async () => {
    const [node] = await backend.cluster(1, { messageRate: 0.01, messageBurst: 1, roomRate: 2, typingRate: 3 });
    const key = uniqueRoomId();
    const drain = async (limiter: { take(key: string): Promise<boolean> }) => {
      const takes = [];
      for (let n = 0; n < 5; n++) takes.push(await limiter.take(key));
      return takes.filter(Boolean).length;
    };
    expect(await drain(node!.messageRate)).toBe(1);
    // ROOM_RATE 2: a bucket of 2 refilled at 2 a minute, so none comes back while the test runs.
    expect(await drain(node!.roomRate)).toBe(2);
    expect(await drain(node!.typingRate)).toBeGreaterThanOrEqual(3);
    expect(await drain(node!.typingRate)).toBeLessThanOrEqual(1);
  });

  it('refills at the configured rate', async () => {
    const [node] = await backend.cluster(1, { messageRate: 20, messageBurst: 1 });
    const key = uniqueRoomId();
    await waitFor(async () => !(await node!.messageRate.take(key)), 2_000, 'an empty bucket');
    await waitFor(() => node!.messageRate.take(key), 2_000, 'a refilled token');
  });
});

describe('RateLimiter over Redis', () => {
  it('answers UNAVAILABLE while Redis is down', async () => {
    const server = await privateRedisServer();
    const [node] = await redisCluster(server, 1, { commandTimeoutMs: 500 });
    await server.stop();
    await expect(within(node!.messageRate.take('k'), 3_000)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
