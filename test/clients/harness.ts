import { randomUUID } from 'node:crypto';
import { expect, onTestFinished } from 'vitest';
import { gql } from '../utils/http-client.ts';
import { startRedisServer } from '../utils/redis-server.ts';
import { startTestApp, type TestApp } from '../utils/test-app.ts';
import { signTestToken } from '../utils/tokens.ts';
import { waitFor } from '../utils/wait.ts';
import { connectAuthed } from '../utils/ws-client.ts';
import type { RoomEventsSubscription, RoomEventsSubscriptionVariables, RoomsQuery } from './gql/graphql.ts';

export type RoomEvent = RoomEventsSubscription['roomEvents'];

/** A sink shaped like graphql-ws's and the Observables of Apollo and urql. */
export interface EventSink {
  next(event: RoomEvent): void;
  /** The operation ended (socket closed, server error): the watcher resubscribes. */
  end(reason: unknown): void;
}

/**
 * What each real client library provides to the shared scenarios: the same four operations, sent through the
 * library exactly as an application would send them.
 */
export interface LibraryClient {
  rooms(): Promise<RoomsQuery['rooms']>;
  online(roomId: string): Promise<string[]>;
  createRoom(name: string): Promise<{ id: string; name: string }>;
  send(roomId: string, body: string, clientMessageId?: string): Promise<{ id: string; body: string }>;
  /** Starts one `roomEvents` subscription; returns its unsubscribe. */
  subscribe(variables: RoomEventsSubscriptionVariables, sink: EventSink): () => void;
  dispose(): void | Promise<void>;
}

export interface ClientOptions {
  httpUrl: string;
  wsUrl: string;
  /** Called for every HTTP request and every WebSocket (re)connection: a fresh token each time. */
  token: () => Promise<string>;
}

/**
 * A short-lived token per call, as a refresh endpoint would hand out; `hold()` makes the next calls wait until
 * `release()`, so a test can put work between a server restart and the client's reconnection.
 */
export function createTokenSource(sub: string, name: string) {
  let gate: { promise: Promise<void>; open: () => void } | null = null;
  const source = {
    issued: 0,
    async get(): Promise<string> {
      if (gate) await gate.promise;
      source.issued += 1;
      return signTestToken({ sub, name, jti: randomUUID() }, { expiresIn: '5m' });
    },
    hold() {
      let open = () => {};
      const promise = new Promise<void>((resolve) => (open = resolve));
      gate = { promise, open };
    },
    release() {
      gate?.open();
      gate = null;
    },
  };
  return source;
}

/**
 * `roomEvents` that survive a lost connection without losing a message. graphql-ws's own retry re-sends the
 * original subscribe payload, i.e. without `after`, so everything sent while the client was away would be
 * skipped. Instead the clients run with `retryAttempts: 0`: the operation ends with the socket, and this
 * resubscribes (a new socket, a fresh token from `connectionParams`) with `after: <last message id seen>`;
 * the server replays the gap, then goes live with no duplicate (CONTRACT: Semantics).
 */
export function watchRoom(client: LibraryClient, roomId: string, { retryDelayMs = 100 } = {}) {
  const events: RoomEvent[] = [];
  let lastMessageId: string | undefined;
  let unsubscribe = () => {};
  let retry: NodeJS.Timeout | undefined;
  let stopped = false;
  const watcher = {
    events,
    /** Subscriptions opened, the first included. */
    attempts: 0,
    /** Apollo adds `__typename` to every selection, urql does not: compare projections. */
    messages: () =>
      events.flatMap((e) =>
        e.__typename === 'MessageSent' ? [{ id: e.message.id, body: e.message.body, author: { id: e.message.author.id } }] : [],
      ),
    stop() {
      stopped = true;
      clearTimeout(retry);
      unsubscribe();
    },
  };
  const open = () => {
    let ended = false;
    watcher.attempts += 1;
    unsubscribe = client.subscribe(
      { roomId, ...(lastMessageId ? { after: lastMessageId } : {}) },
      {
        next(event) {
          if (event.__typename === 'MessageSent') lastMessageId = event.message.id;
          events.push(event);
        },
        end() {
          if (ended || stopped) return;
          ended = true;
          retry = setTimeout(open, retryDelayMs);
        },
      },
    );
  };
  open();
  onTestFinished(() => watcher.stop());
  return watcher;
}

/** Queries, mutations, a subscription and presence, through one library against a real server. */
export async function chatsThroughTheLibrary(connect: (options: ClientOptions) => LibraryClient) {
  const app = await startTestApp();
  const alice = createTokenSource('alice', 'Alice');
  const client = connect({ httpUrl: app.graphqlUrl, wsUrl: app.wsUrl, token: alice.get });
  onTestFinished(() => client.dispose());

  const room = await client.createRoom('lobby');
  expect(room).toEqual({ id: expect.any(String), name: 'lobby' });
  expect(await client.rooms()).toEqual([expect.objectContaining({ id: room.id, name: 'lobby', online: [] })]);

  const watcher = watchRoom(client, room.id);
  await waitFor(async () => (await client.online(room.id)).includes('alice'), 5_000, 'alice online');

  const sent = await client.send(room.id, 'hello from the library');
  await waitFor(() => watcher.messages().length === 1, 5_000, 'the message on roomEvents');
  expect(watcher.messages()).toEqual([{ id: sent.id, body: 'hello from the library', author: { id: 'alice' } }]);

  // Another user (a raw graphql-ws socket) joins: the library sees MemberJoined and both in Room.online.
  const bob = await connectAuthed(app.wsUrl, await signTestToken({ sub: 'bob', name: 'Bob' }));
  bob.subscribe('bob-events', 'subscription($roomId: ID!) { roomEvents(roomId: $roomId) { __typename } }', { roomId: room.id });
  await waitFor(() => watcher.events.some((e) => e.__typename === 'MemberJoined' && e.user.id === 'bob'), 5_000, 'MemberJoined of bob');
  expect(watcher.events).toContainEqual({ __typename: 'MemberJoined', user: expect.objectContaining({ id: 'bob', name: 'Bob' }) });
  expect((await client.online(room.id)).sort()).toEqual(['alice', 'bob']);
  const [listed] = await client.rooms();
  expect(listed?.online.map((p) => p.user.name).sort()).toEqual(['Alice', 'Bob']);

  await bob.close();
  await waitFor(() => watcher.events.some((e) => e.__typename === 'MemberLeft' && e.user.id === 'bob'), 5_000, 'MemberLeft of bob');
  expect(watcher.attempts).toBe(1);
}

/**
 * The server restarts on the same port (both instances on one Redis, so history outlives the process).
 * A message sent while the client is away arrives after it reconnects, exactly once and in order.
 */
export async function resumesAfterARestart(connect: (options: ClientOptions) => LibraryClient) {
  const redis = await startRedisServer();
  const prefix = redis.newPrefix();
  onTestFinished(async () => {
    await redis.deleteKeys(prefix).catch(() => undefined);
    await redis.stop();
  });
  const env = { REDIS_URL: redis.url, REDIS_PREFIX: prefix };
  const first: TestApp = await startTestApp(env);
  const alice = createTokenSource('alice', 'Alice');
  const client = connect({ httpUrl: first.graphqlUrl, wsUrl: first.wsUrl, token: alice.get });
  onTestFinished(() => client.dispose());

  const room = await client.createRoom('restarts');
  const watcher = watchRoom(client, room.id);
  await waitFor(async () => (await client.online(room.id)).includes('alice'), 5_000, 'alice online');
  const before = await client.send(room.id, 'before the restart');
  await waitFor(() => watcher.messages().length === 1, 5_000, 'the first message');
  const tokensBefore = alice.issued;

  // The client cannot reconnect until the test says so: its token refresh is held.
  alice.hold();
  await first.stop();
  const second = await startTestApp({ ...env, PORT: String(first.port) });
  const bobToken = await signTestToken({ sub: 'bob', name: 'Bob' });
  const whileAway = await gql<{ sendMessage: { id: string } }>(
    second.graphqlUrl,
    'mutation($roomId: ID!) { sendMessage(roomId: $roomId, body: "while you were away") { id } }',
    { roomId: room.id },
    bobToken,
  );
  expect(whileAway.errors).toBeUndefined();
  alice.release();

  // Bounded generously: the client's reconnect backoff grew while the server was down (1 s, 2 s, 4 s, ... plus jitter).
  await waitFor(() => watcher.messages().length === 2, 30_000, 'the missed message, replayed after `after`');
  await waitFor(async () => (await client.online(room.id)).includes('alice'), 5_000, 'alice online again');
  const after = await client.send(room.id, 'after the restart');
  await waitFor(() => watcher.messages().length === 3, 5_000, 'a live message after the restart');

  expect(watcher.messages()).toEqual([
    { id: before.id, body: 'before the restart', author: { id: 'alice' } },
    { id: whileAway.data?.sendMessage.id, body: 'while you were away', author: { id: 'bob' } },
    { id: after.id, body: 'after the restart', author: { id: 'alice' } },
  ]);
  expect(watcher.attempts).toBeGreaterThan(1);
  // A reconnection asked for a new token rather than replaying the old one.
  expect(alice.issued).toBeGreaterThan(tokensBefore);
}
