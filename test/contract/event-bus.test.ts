import { describe, expect, it } from 'vitest';
import { ChatError } from '../../src/chat/errors.ts';
import { createHardenedRedisEventTarget } from '../../src/adapters/redis/event-target.ts';
import { createRedisConnection, closeConnection } from '../../src/adapters/redis/connections.ts';
import { silentLogger } from '../../src/chat/logger.ts';
import { waitFor, within } from '../utils/wait.ts';
import { privateRedisServer, redisCluster, useBackends } from './backends.ts';
import { createRecorder, typingEvent, uniqueRoomId } from './recorder.ts';
import { onTestFinished } from 'vitest';

const backends = useBackends();

describe.each(backends)('RoomEventBus contract: $name', (backend) => {
  it('delivers what is published after subscribe resolves to every listener on every node, in publish order', async () => {
    const [a, b] = await backend.cluster(2);
    const roomId = uniqueRoomId();
    const onA = createRecorder();
    const onB = createRecorder();
    await a!.bus.subscribe(roomId, onA);
    await b!.bus.subscribe(roomId, onB);
    const sent = Array.from({ length: 20 }, (_, n) => typingEvent(roomId, n));
    for (const event of sent) await a!.bus.publish(event);
    await waitFor(() => onA.events.length === 20 && onB.events.length === 20, 5_000, 'all events');
    expect(onA.events).toEqual(sent);
    expect(onB.events).toEqual(sent);
  });

  it('keeps rooms apart', async () => {
    const [a, b] = await backend.cluster(2);
    const [one, two] = [uniqueRoomId(), uniqueRoomId()];
    const onOne = createRecorder();
    const onTwo = createRecorder();
    await b!.bus.subscribe(one, onOne);
    await b!.bus.subscribe(two, onTwo);
    await a!.bus.publish(typingEvent(two, 1));
    await a!.bus.publish(typingEvent(one, 2));
    await waitFor(() => onOne.events.length === 1 && onTwo.events.length === 1, 5_000, 'one event each');
    expect(onOne.events).toEqual([typingEvent(one, 2)]);
    expect(onTwo.events).toEqual([typingEvent(two, 1)]);
  });

  it('counts listeners per room: one unsubscribing leaves the others live', async () => {
    const [a, b] = await backend.cluster(2);
    const roomId = uniqueRoomId();
    const first = createRecorder();
    const second = createRecorder();
    const stopFirst = await b!.bus.subscribe(roomId, first);
    await b!.bus.subscribe(roomId, second);
    await stopFirst();
    await stopFirst(); // idempotent
    await a!.bus.publish(typingEvent(roomId, 1));
    await waitFor(() => second.events.length === 1, 5_000, 'event to the remaining listener');
    // A marker event through the same path proves the first listener had its chance and got nothing.
    await a!.bus.publish(typingEvent(roomId, 2));
    await waitFor(() => second.events.length === 2, 5_000, 'marker');
    expect(first.events).toEqual([]);
  });

  it('catches a throwing listener and keeps delivering to it and to the others', async () => {
    const [a, b] = await backend.cluster(2);
    const roomId = uniqueRoomId();
    const good = createRecorder();
    let thrown = 0;
    await b!.bus.subscribe(roomId, {
      onEvent() {
        thrown++;
        throw new Error('listener bug');
      },
      onPossibleGap() {},
    });
    await b!.bus.subscribe(roomId, good);
    await a!.bus.publish(typingEvent(roomId, 1));
    await a!.bus.publish(typingEvent(roomId, 2));
    await waitFor(() => good.events.length === 2 && thrown === 2, 5_000, 'both events to both listeners');
  });

  it('survives subscribe/unsubscribe churn and still confirms and delivers', async () => {
    const [a, b] = await backend.cluster(2);
    const rooms = Array.from({ length: 5 }, () => uniqueRoomId());
    await Promise.all(
      Array.from({ length: 200 }, async (_, n) => {
        const stop = await b!.bus.subscribe(rooms[n % rooms.length]!, createRecorder());
        if (n % 3 !== 0) await stop();
        else void stop();
      }),
    );
    const recorders = rooms.map(() => createRecorder());
    await Promise.all(rooms.map((roomId, n) => b!.bus.subscribe(roomId, recorders[n]!)));
    for (const roomId of rooms) await a!.bus.publish(typingEvent(roomId, 7));
    await waitFor(() => recorders.every((r) => r.events.length === 1), 5_000, 'one event per room after churn');
  });
});

describe('RoomEventBus over Redis: failures the stock event target does not survive', () => {
  it('drops garbage published on a room channel and keeps delivering (pitfalls §2)', async () => {
    const [server] = [await privateRedisServer()];
    const [node] = await redisCluster(server, 1, { prefix: 'p1:' });
    const roomId = uniqueRoomId();
    const recorder = createRecorder();
    await node!.bus.subscribe(roomId, recorder);
    const channel = `p1:room-events:${roomId}`;
    for (const garbage of [
      'x',
      '',
      '{"kind":"message"}',
      '[]',
      'null',
      JSON.stringify(typingEvent('other-room', 1)),
      JSON.stringify({ ...typingEvent(roomId, 1), typing: 'yes' }),
    ]) {
      await server.command('PUBLISH', channel, garbage);
    }
    await node!.bus.publish(typingEvent(roomId, 2));
    await waitFor(() => recorder.events.length > 0, 5_000, 'the valid event');
    expect(recorder.events).toEqual([typingEvent(roomId, 2)]);
  });

  it('puts the prefix on channel names: two clusters on one Redis do not hear each other (pitfalls §7)', async () => {
    const server = await privateRedisServer();
    const [one] = await redisCluster(server, 1, { prefix: 'one:' });
    const [two] = await redisCluster(server, 1, { prefix: 'two:' });
    const roomId = uniqueRoomId();
    const onOne = createRecorder();
    const onTwo = createRecorder();
    await one!.bus.subscribe(roomId, onOne);
    await two!.bus.subscribe(roomId, onTwo);
    await two!.bus.publish(typingEvent(roomId, 1));
    await one!.bus.publish(typingEvent(roomId, 2));
    await waitFor(() => onOne.events.length === 1 && onTwo.events.length === 1, 5_000, 'own events');
    expect(onOne.events).toEqual([typingEvent(roomId, 2)]);
    expect(onTwo.events).toEqual([typingEvent(roomId, 1)]);
  });

  it('resubscribes after CLIENT KILL TYPE pubsub, reports the possible gap, and delivers again (pitfalls §5)', async () => {
    const server = await privateRedisServer();
    const [a, b] = await redisCluster(server, 2);
    const roomId = uniqueRoomId();
    const recorder = createRecorder();
    await b!.bus.subscribe(roomId, recorder);
    await server.command('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await waitFor(() => recorder.gaps >= 1, 5_000, 'onPossibleGap');
    await a!.bus.publish(typingEvent(roomId, 1));
    await waitFor(() => recorder.events.length === 1, 5_000, 'delivery after resubscribe');
  });

  it('after a Redis restart: publish answered UNAVAILABLE while down, then resubscribed with a gap report', async () => {
    const server = await privateRedisServer();
    const [a, b] = await redisCluster(server, 2);
    const roomId = uniqueRoomId();
    const recorder = createRecorder();
    await b!.bus.subscribe(roomId, recorder);
    await server.stop();
    await expect(within(a!.bus.publish(typingEvent(roomId, 1)), 3_000)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await server.restart();
    await waitFor(() => recorder.gaps >= 1, 10_000, 'onPossibleGap after restart');
    await waitFor(
      async () => {
        await a!.bus.publish(typingEvent(roomId, 2)).catch(() => undefined);
        return recorder.events.length > 0;
      },
      10_000,
      'delivery after restart',
    );
    expect(recorder.events[0]).toEqual(typingEvent(roomId, 2));
  });

  it('subscribe while Redis is down: rejects UNAVAILABLE after its timeout, confirms once Redis is back', async () => {
    const server = await privateRedisServer();
    const [a, b] = await redisCluster(server, 2, { subscribeTimeoutMs: 300 });
    await server.stop();
    const roomId = uniqueRoomId();
    const error = await b!.bus.subscribe(roomId, createRecorder()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatError);
    expect((error as ChatError).code).toBe('UNAVAILABLE');
    await server.restart();
    const recorder = createRecorder();
    await waitFor(
      () =>
        b!.bus.subscribe(roomId, recorder).then(
          () => true,
          () => false,
        ),
      10_000,
      'confirmed subscribe',
    );
    await waitFor(
      async () => {
        await a!.bus.publish(typingEvent(roomId, 1)).catch(() => undefined);
        return recorder.events.length > 0;
      },
      10_000,
      'delivery',
    );
  });

  it('retries a SUBSCRIBE that timed out on a frozen Redis instead of leaving the room deaf (pitfalls §3, 4)', async () => {
    const server = await privateRedisServer();
    const [a, b] = await redisCluster(server, 2, { commandTimeoutMs: 200, subscribeTimeoutMs: 10_000 });
    const roomId = uniqueRoomId();
    const recorder = createRecorder();
    server.pause();
    let confirmed = false;
    const subscribing = b!.bus.subscribe(roomId, recorder).then((stop) => {
      confirmed = true;
      return stop;
    });
    // Long enough for at least one SUBSCRIBE to time out; nothing below depends on how many did.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(confirmed).toBe(false);
    server.resume();
    await within(subscribing, 10_000, 'confirmed subscribe');
    await waitFor(
      async () => {
        await a!.bus.publish(typingEvent(roomId, 1)).catch(() => undefined);
        return recorder.events.length > 0;
      },
      10_000,
      'delivery',
    );
  });

  it('does not SUBSCRIBE during connect (ioredis #2037): listen before ready resolves after ready', async () => {
    const server = await privateRedisServer();
    const publisher = createRedisConnection('command', { url: server.url, logger: silentLogger });
    const subscriber = createRedisConnection('subscriber', { url: server.url, logger: silentLogger });
    const target = createHardenedRedisEventTarget<CustomEvent>({
      publishClient: publisher,
      subscribeClient: subscriber,
      logger: silentLogger,
    });
    onTestFinished(async () => {
      target.close();
      await Promise.all([closeConnection(publisher), closeConnection(subscriber)]);
    });
    const received: unknown[] = [];
    const listening = target.listen('raw-topic', { onMessage: (detail) => received.push(detail), onResubscribed() {} });
    expect(subscriber.status).not.toBe('ready');
    await within(listening, 5_000, 'confirmed listen');
    await target.publish('raw-topic', { hello: 1 });
    await waitFor(() => received.length === 1, 5_000, 'message');
    expect(received).toEqual([{ hello: 1 }]);
    // The EventTarget face (what Yoga's createPubSub uses) works too.
    const events: unknown[] = [];
    const callback = (event: CustomEvent) => events.push(event.detail);
    target.addEventListener('raw-topic', callback);
    await waitFor(
      async () => {
        target.dispatchEvent(new CustomEvent('raw-topic', { detail: 'x' }));
        await new Promise((resolve) => setTimeout(resolve, 20));
        return events.length > 0;
      },
      5_000,
      'dispatchEvent delivery',
    );
    target.removeEventListener('raw-topic', callback);
  });
});
