import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createKeys } from '../../src/adapters/redis/keys.ts';
import type { Room, UserEvent } from '../../src/chat/types.ts';
import { waitFor } from '../utils/wait.ts';
import { privateRedisServer, redisCluster, useBackends } from './backends.ts';

const backends = useBackends();
const at = '2026-01-01T00:00:00.000Z';
let counter = 0;
const room = (overrides: Partial<Room> = {}): Room => ({
  id: `r_${++counter}`,
  name: `room ${counter}`,
  private: false,
  createdAt: at,
  createdBy: 'alice',
  members: [],
  ...overrides,
});
const mention = (body: string, roomId = 'r_m'): UserEvent => ({
  kind: 'mentioned',
  message: {
    id: `${roomId}:000000000007`,
    roomId,
    seq: 7,
    author: { id: 'alice', name: 'Alice' },
    body,
    sentAt: at,
    clientMessageId: 'c"1',
  },
  at,
});

const recorder = () => {
  const events: UserEvent[] = [];
  return { events, onEvent: (event: UserEvent) => void events.push(event) };
};

describe.each(backends)('UserEventBus contract: $name', (backend) => {
  it("a user's events reach that user's listeners on every node, in publish order, and nobody else's", async () => {
    const [a, b] = await backend.cluster(2);
    const bobOnA = recorder();
    const bobOnB = recorder();
    const carol = recorder();
    await a!.userBus.subscribeToUser('bob', bobOnA);
    await b!.userBus.subscribeToUser('bob', bobOnB);
    await b!.userBus.subscribeToUser('carol', carol);
    const sent: UserEvent[] = [
      { kind: 'roomAvailable', room: room({ private: true, members: ['alice', 'bob'] }), at },
      mention('@bob \u00e9\u{1F600} "quoted"'),
    ];
    for (const event of sent) await a!.userBus.publishToUser('bob', event);
    await b!.userBus.publishToUser('carol', mention('@carol marker'));
    await waitFor(() => bobOnA.events.length === 2 && bobOnB.events.length === 2 && carol.events.length === 1, 5_000, 'events');
    expect(bobOnA.events).toEqual(sent);
    expect(bobOnB.events).toEqual(sent);
    expect(carol.events).toEqual([mention('@carol marker')]);
  });

  it('the broadcast reaches every node once; unsubscribing stops it', async () => {
    const [a, b] = await backend.cluster(2);
    const onA = recorder();
    const onB = recorder();
    const stopA = await a!.userBus.subscribeToAll(onA);
    await b!.userBus.subscribeToAll(onB);
    const first: UserEvent = { kind: 'roomAvailable', room: room(), at };
    await b!.userBus.publishToAll(first);
    await waitFor(() => onA.events.length === 1 && onB.events.length === 1, 5_000, 'broadcast');
    await stopA();
    const second: UserEvent = { kind: 'roomAvailable', room: room(), at };
    await a!.userBus.publishToAll(second);
    await waitFor(() => onB.events.length === 2, 5_000, 'second broadcast');
    expect(onA.events).toEqual([first]);
    expect(onB.events).toEqual([first, second]);
  });
});

describe('UserEventBus on Redis: hostile payloads', () => {
  it('drops what is not a user event (poison, or a mention missing fields) on a user channel and keeps delivering', async () => {
    const server = await privateRedisServer();
    const [node] = await redisCluster(server, 1, { prefix: 'hostile:' });
    const bob = recorder();
    await node!.userBus.subscribeToUser('bob', bob);
    const raw = new Redis(server.url);
    onTestFinished(() => void raw.quit());
    for (const payload of [
      'x',
      '{"kind":"mentioned","at":"t","message":{"kind":"message"}}',
      '{"kind":"roomAvailable","at":"t","room":{"id":1}}',
      'null',
    ]) {
      await raw.publish(createKeys('hostile:').userChannel('bob'), payload);
    }
    await node!.userBus.publishToUser('bob', mention('@bob still here'));
    await waitFor(() => bob.events.length === 1, 5_000, 'the valid event');
    expect(bob.events).toEqual([mention('@bob still here')]);
  });
});
