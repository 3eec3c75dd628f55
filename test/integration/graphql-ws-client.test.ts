import { createClient, type Client } from 'graphql-ws';
import { describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { ROOM_EVENTS, createRoom, history, send, user, type RoomEventPayload } from '../utils/chat.ts';
import { startRedisServer } from '../utils/redis-server.ts';
import { startTestApp } from '../utils/test-app.ts';
import { signTestToken } from '../utils/tokens.ts';
import { waitFor } from '../utils/wait.ts';

interface Subscriber {
  events: RoomEventPayload[];
  errors: unknown[];
  variables: { roomId: string; after?: string };
  completed: () => boolean;
  dispose: () => void;
}

/**
 * Subscribes the way Apollo's GraphQLWsLink and urql's subscriptionExchange do: one `client.subscribe` with a
 * sink. graphql-ws re-sends the same payload object on every reconnect, so keeping `variables.after` at the newest
 * message seen is what turns a retry into a resume.
 */
function subscribeRoom(client: Client, roomId: string): Subscriber {
  const variables: Subscriber['variables'] = { roomId };
  const events: RoomEventPayload[] = [];
  const errors: unknown[] = [];
  let completed = false;
  const dispose = client.subscribe<{ roomEvents: RoomEventPayload }>(
    { query: ROOM_EVENTS, variables },
    {
      next(result) {
        if (result.errors) errors.push(...result.errors);
        const event = result.data?.roomEvents;
        if (!event) return;
        events.push(event);
        if (event.__typename === 'MessageSent') variables.after = event.message!.id;
      },
      error: (error) => errors.push(error),
      complete: () => {
        completed = true;
      },
    },
  );
  return { events, errors, variables, completed: () => completed, dispose };
}

const messageBodies = (events: RoomEventPayload[]) => events.filter((e) => e.__typename === 'MessageSent').map((e) => e.message!.body);

function libraryClient(wsUrl: string, userId: string, onConnectParams: () => void, beforeConnect = async () => {}): Client {
  const client = createClient({
    // Called before every (re)connect attempt: the restart test holds reconnection here until it has sent messages.
    url: async () => {
      await beforeConnect();
      return wsUrl;
    },
    webSocketImpl: WebSocket,
    lazy: true,
    retryAttempts: 200,
    // Quick retries keep the test short; the default backoff is seconds.
    retryWait: () => new Promise((resolve) => setTimeout(resolve, 100)),
    // The default retries close events only; `ws` reports a refused connection (server restarting) as an error
    // event first, which would end the subscription. Apps configure exactly this for their users.
    shouldRetry: () => true,
    // Called before every (re)connect: a client would refresh its token here.
    connectionParams: async () => {
      onConnectParams();
      return { authorization: `Bearer ${await signTestToken({ sub: userId, name: userId })}` };
    },
  });
  onTestFinished(() => client.dispose());
  return client;
}

describe('the graphql-ws client (as used by Apollo and urql)', () => {
  it('subscribes, receives messages sent over HTTP in order, and leaves on unsubscribe', async () => {
    const app = await startTestApp();
    const alice = await user('alice');
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    let connects = 0;
    const client = libraryClient(app.wsUrl, 'bob', () => (connects += 1));
    const bobSub = subscribeRoom(client, roomId);
    await waitFor(() => bobSub.events.length >= 1, 5_000, 'MemberJoined');
    expect(bobSub.events[0]).toEqual({ __typename: 'MemberJoined', roomId, user: { id: 'bob', name: 'bob' } });

    const aliceWatch = subscribeRoom(
      libraryClient(app.wsUrl, 'alice', () => {}),
      roomId,
    );
    await waitFor(() => aliceWatch.events.length >= 1, 5_000, 'alice live');

    for (const body of ['one', 'two', 'three']) await send(app.graphqlUrl, alice.token, roomId, body);
    await waitFor(() => messageBodies(bobSub.events).length >= 3, 5_000, 'three messages');
    expect(messageBodies(bobSub.events)).toEqual(['one', 'two', 'three']);
    expect(bobSub.errors).toEqual([]);
    expect(connects).toBe(1);

    bobSub.dispose();
    await waitFor(() => aliceWatch.events.some((e) => e.__typename === 'MemberLeft' && e.user!.id === 'bob'), 5_000, 'MemberLeft');
  });

  it('reconnects after a server restart on the same port and resumes with `after` without losing a message', async () => {
    // History must outlive the server process for a resume to mean anything: the restart keeps Redis.
    const redis = await startRedisServer();
    onTestFinished(() => redis.stop());
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: redis.newPrefix() };
    const first = await startTestApp(env);
    const alice = await user('alice');
    const roomId = await createRoom(first.graphqlUrl, alice.token);

    let connects = 0;
    let reconnectAllowed = true;
    const client = libraryClient(
      first.wsUrl,
      'bob',
      () => (connects += 1),
      () => waitFor(() => reconnectAllowed, 20_000, 'reconnection to be allowed'),
    );
    const sub = subscribeRoom(client, roomId);
    await waitFor(() => sub.events.length >= 1, 5_000, 'live');
    for (const body of ['before 1', 'before 2']) await send(first.graphqlUrl, alice.token, roomId, body);
    await waitFor(() => messageBodies(sub.events).length >= 2, 5_000, 'messages before the restart');

    reconnectAllowed = false;
    await first.stop();
    const second = await startTestApp({ ...env, PORT: String(first.port) });
    // Sent while the client is held off: only the `after` replay can deliver these.
    for (const body of ['while away 1', 'while away 2']) await send(second.graphqlUrl, alice.token, roomId, body);
    expect(connects).toBe(1);
    reconnectAllowed = true;
    await waitFor(() => connects >= 2, 10_000, 'the client to reconnect');
    await waitFor(() => messageBodies(sub.events).length >= 4, 5_000, 'the replay');
    await send(second.graphqlUrl, alice.token, roomId, 'after the restart');
    await waitFor(() => messageBodies(sub.events).length >= 5, 5_000, 'a live message after the restart');

    expect(messageBodies(sub.events)).toEqual(['before 1', 'before 2', 'while away 1', 'while away 2', 'after the restart']);
    // The resubscription replayed the missed messages (before its own MemberJoined), then went live.
    expect(sub.events.map((e) => e.message?.body ?? e.__typename)).toEqual([
      'MemberJoined',
      'before 1',
      'before 2',
      'while away 1',
      'while away 2',
      'MemberJoined',
      'after the restart',
    ]);
    const stored = await history(second.graphqlUrl, alice.token, roomId);
    expect(sub.events.filter((e) => e.__typename === 'MessageSent').map((e) => e.message!.id)).toEqual(stored.map((m) => m.id));
    expect(sub.errors).toEqual([]);
    expect(sub.completed()).toBe(false);
    // Teardown in dependency order: the client first, so that it does not retry against a stopped server.
    client.dispose();
    await second.stop();
    await redis.deleteKeys(env.REDIS_PREFIX);
  });
});
