import { ApolloClient, InMemoryCache } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { Client as UrqlClient, subscriptionExchange } from '@urql/core';
import { parse } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { resumable } from '../../src/client/index.ts';
import { gql } from '../utils/http-client.ts';
import { startInstance } from '../utils/instance.ts';
import { startNginx } from '../utils/nginx.ts';
import { startRedisServer } from '../utils/redis-server.ts';
import { startTestApp } from '../utils/test-app.ts';
import { startTcpProxy } from '../utils/tcp-proxy.ts';
import { signTestToken } from '../utils/tokens.ts';
import { waitFor } from '../utils/wait.ts';

// Stock clients with graphql-ws's default retries and nothing but `resumable()` added: connections cut under them
// (a TCP proxy dropping every connection, a restart of the whole cluster, one instance after the other going away
// behind nginx) while another user keeps sending over HTTP. Each app must see every message once, in history order.

/** What one app saw: message bodies in arrival order, and the raw events (to check the shape it asked for). */
interface App {
  readonly name: string;
  readonly bodies: string[];
  readonly events: unknown[];
  /** graphql-ws `connected` events: the first connection and every reconnection. */
  connections: number;
  /** Set when the operation ended (error or complete): with retries on, it must not. */
  ended?: unknown;
}

type Connect = (wsUrl: string, roomId: string, user: string) => App;

const tokenFor = (user: string) => async () => `Bearer ${await signTestToken({ sub: user, name: user })}`;

/** A graphql-ws client as each app builds it (Node's WebSocket, a fresh token on every connect), before resumable(). */
const clientOf = (wsUrl: string, user: string): Client =>
  createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: async () => ({ authorization: await tokenFor(user)() }) });

/** graphql-ws's dispose rejects when the connection it was opening failed (an nginx 502 mid-switch): that is fine here. */
const disposed = (client: Client) => Promise.resolve(client.dispose()).catch(() => undefined);

function newApp(name: string, inner: Client): App {
  const app: App = { name, bodies: [], events: [], connections: 0 };
  inner.on('connected', () => (app.connections += 1));
  return app;
}

function eventOf(app: App, event: unknown, ended?: unknown) {
  if (ended !== undefined) {
    app.ended ??= ended;
    return;
  }
  app.events.push(event);
  const body = (event as { message?: { body?: unknown } } | undefined)?.message?.body;
  if (typeof body === 'string') app.bodies.push(body);
}

/** Plain graphql-ws; the document declares no `after` and selects no id: the helper adds both, then strips the id. */
const plainGraphqlWs: Connect = (wsUrl, roomId, user) => {
  const inner = clientOf(wsUrl, user);
  const app = newApp('graphql-ws', inner);
  const client = resumable(inner);
  const stop = client.subscribe<{ roomEvents: unknown }>(
    {
      query: 'subscription($roomId: ID!) { roomEvents(roomId: $roomId) { __typename ... on MessageSent { message { body } } } }',
      variables: { roomId },
    },
    {
      next: ({ data }) => eventOf(app, data?.roomEvents),
      error: (error) => eventOf(app, undefined, error),
      complete: () => eventOf(app, undefined, 'complete'),
    },
  );
  onTestFinished(async () => {
    stop();
    await disposed(client);
  });
  return app;
};

/** Apollo Client 4 as the README sets it up: the README's fragment document, GraphQLWsLink over the wrapped client. */
const apollo: Connect = (wsUrl, roomId, user) => {
  const inner = clientOf(wsUrl, user);
  const app = newApp('Apollo', inner);
  const wsClient = resumable(inner);
  const client = new ApolloClient({
    link: new GraphQLWsLink(wsClient),
    cache: new InMemoryCache({ possibleTypes: { RoomEvent: ['MessageSent', 'MemberJoined', 'MemberLeft', 'TypingChanged'] } }),
  });
  const ROOM_EVENTS = parse(`
    subscription Watch($roomId: ID!) {
      roomEvents(roomId: $roomId) { __typename ...RoomEventFields }
    }
    fragment RoomEventFields on RoomEvent {
      ... on MessageSent { message { id roomId body sentAt } }
    }
  `);
  const subscription = client.subscribe({ query: ROOM_EVENTS, variables: { roomId }, fetchPolicy: 'no-cache' }).subscribe({
    next: ({ data, error }) => eventOf(app, (data as { roomEvents?: unknown } | undefined)?.roomEvents, error),
    error: (error: unknown) => eventOf(app, undefined, error),
    complete: () => eventOf(app, undefined, 'complete'),
  });
  onTestFinished(async () => {
    subscription.unsubscribe();
    client.stop();
    await disposed(wsClient);
  });
  return app;
};

/** urql 6 with subscriptionExchange; an aliased root field, the id selected, no `after` declared. */
const urql: Connect = (wsUrl, roomId, user) => {
  const inner = clientOf(wsUrl, user);
  const app = newApp('urql', inner);
  const wsClient = resumable(inner);
  const client = new UrqlClient({
    url: wsUrl.replace(/^ws/, 'http'),
    exchanges: [
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: wsClient.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
    ],
  });
  const query =
    'subscription Watch($roomId: ID!) { events: roomEvents(roomId: $roomId) { __typename ... on MessageSent { message { id body } } } }';
  const subscription = client
    .subscription<{ events: unknown }>(query, { roomId })
    .subscribe(({ data, error }) => eventOf(app, data?.events, error));
  onTestFinished(async () => {
    subscription.unsubscribe();
    await disposed(wsClient);
  });
  return app;
};

/** A read through nginx, tried again while nginx answers 502 (an instance has just gone or come back). */
async function read<T>(graphqlUrl: string, query: string, variables: Record<string, unknown>, token: string): Promise<T> {
  let result: T | undefined;
  await waitFor(
    async () => {
      const response = await gql<T>(graphqlUrl, query, variables, token).catch(() => null);
      result = response?.data ?? undefined;
      return result !== undefined;
    },
    15_000,
    'an answer through nginx',
  );
  return result as T;
}

const SEND = 'mutation($roomId: ID!, $body: String!, $id: ID) { sendMessage(roomId: $roomId, body: $body, clientMessageId: $id) { id } }';

/** Another user sending one message after the other over HTTP, each retried (same clientMessageId) until acknowledged. */
function startSender(graphqlUrl: string, roomId: string, token: string) {
  const acked: string[] = [];
  let stopped = false;
  const done = (async () => {
    for (let n = 1; !stopped; n += 1) {
      const body = `m-${n}`;
      while (!stopped) {
        const response = await gql<{ sendMessage: { id: string } }>(graphqlUrl, SEND, { roomId, body, id: `c-${n}` }, token).catch(
          () => null,
        );
        if (response?.data?.sendMessage) {
          acked.push(body);
          break;
        }
        await delay(100); // the cluster is down for a moment: try again
      }
      await delay(40); // a steady stream, not a flood
    }
  })();
  return {
    acked,
    async stop() {
      stopped = true;
      await done;
    },
  };
}

async function history(graphqlUrl: string, roomId: string, token: string): Promise<string[]> {
  const bodies: string[] = [];
  let before: string | undefined;
  for (;;) {
    const { room } = await read<{ room: { messages: Array<{ id: string; body: string }> } }>(
      graphqlUrl,
      'query($id: ID!, $before: ID) { room(id: $id) { messages(last: 500, before: $before) { id body } } }',
      { id: roomId, before },
      token,
    );
    const page = room.messages;
    bodies.unshift(...page.map((m) => m.body));
    if (page.length < 500) return bodies;
    before = page[0]?.id;
  }
}

describe('resumable() with graphql-ws default retries', () => {
  it('plain graphql-ws, Apollo and urql see every message once, in order, across dropped connections, a restart and an instance switch', async ({
    expect,
  }) => {
    const redis = await startRedisServer();
    const prefix = redis.newPrefix();
    onTestFinished(async () => {
      await redis.deleteKeys(prefix).catch(() => undefined);
      await redis.stop();
    });
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: prefix, MESSAGE_RATE: '1000' };
    let [a, b] = await Promise.all([startInstance({ env }), startInstance({ env })]);
    const nginx = await startNginx([a.port, b.port]);
    const proxy = await startTcpProxy(nginx.port);
    const senderToken = await signTestToken({ sub: 'sender', name: 'Sender' });
    const created = await gql<{ createRoom: { id: string } }>(
      nginx.graphqlUrl,
      'mutation { createRoom(name: "resume") { id } }',
      {},
      senderToken,
    );
    const roomId = created.data?.createRoom.id as string;
    expect(roomId).toEqual(expect.any(String));

    const apps = [plainGraphqlWs(proxy.wsUrl, roomId, 'plain'), apollo(proxy.wsUrl, roomId, 'apollo'), urql(proxy.wsUrl, roomId, 'urql')];
    // Subscribed (present in the room) before the first message: without a cursor a stream starts live.
    const online = async () => {
      const { room } = await read<{ room: { online: Array<{ user: { id: string } }> } }>(
        nginx.graphqlUrl,
        'query($id: ID!) { room(id: $id) { online { user { id } } } }',
        { id: roomId },
        senderToken,
      );
      return room.online.length === apps.length;
    };
    await waitFor(online, 10_000, 'every app subscribed');
    const sender = startSender(nginx.graphqlUrl, roomId, senderToken);
    onTestFinished(() => sender.stop());

    /**
     * A message acknowledged after this call, and every one before it, has reached every app: an app cut off by
     * the disruption before the call has a live subscription again, and the gap was filled.
     */
    const caughtUp = async (label: string, { fresh = true } = {}) => {
      const sentBefore = sender.acked.length;
      if (fresh) await waitFor(() => sender.acked.length > sentBefore, 45_000, `a message sent (${label})`);
      const target = sender.acked.slice();
      await waitFor(() => apps.every((app) => target.every((body) => app.bodies.includes(body))), 45_000, `every app caught up (${label})`);
    };
    const reconnected = async (before: number[], label: string) => {
      await waitFor(() => apps.every((app, i) => app.connections > (before[i] ?? 0)), 45_000, `every app reconnected (${label})`);
      await caughtUp(label);
    };
    const connections = () => apps.map((app) => app.connections);
    const log: string[] = [];
    const phase = (label: string) => log.push(`${label}: connections ${connections().join('/')}, messages ${sender.acked.length}`);
    await caughtUp('start');

    // 1. The network drops every connection, three times, mid-stream.
    for (let cut = 1; cut <= 3; cut += 1) {
      const before = connections();
      expect(proxy.dropAll()).toBeGreaterThanOrEqual(apps.length);
      await reconnected(before, `proxy drop ${cut}`);
      phase(`proxy drop ${cut}`);
    }

    // 2. The whole cluster restarts on the same ports (SIGKILL: no goodbye); history survives in Redis.
    {
      const before = connections();
      const ports = [a.port, b.port] as const;
      a.kill();
      b.kill();
      await Promise.all([a.exited, b.exited]);
      [a, b] = await Promise.all([startInstance({ env, port: ports[0] }), startInstance({ env, port: ports[1] })]);
      await reconnected(before, 'cluster restart');
      phase('cluster restart');
    }

    // 3. Instances go away one after the other behind nginx: A shuts down (1001), so every app is on B; A comes
    //    back and B crashes, so every app switches to A.
    {
      a.kill('SIGTERM');
      await a.exited;
      await caughtUp('instance A shut down');
      phase('instance A shut down (1001)');
      const before = connections();
      a = await startInstance({ env, port: a.port });
      b.kill();
      await b.exited;
      await reconnected(before, 'instance B killed');
      phase('instance B killed, A back');
    }

    await sender.stop();
    await caughtUp('end', { fresh: false });
    const stored = await history(nginx.graphqlUrl, roomId, senderToken);
    const report = apps.map((app) => ({
      client: app.name,
      sent: stored.length,
      received: app.bodies.length,
      duplicated: app.bodies.length - new Set(app.bodies).size,
      reconnections: app.connections - 1,
    }));
    console.log(`resumable across forced reconnects (graphql-ws/Apollo/urql):\n${log.join('\n')}\n${JSON.stringify(report)}`);
    for (const app of apps) {
      expect(app.ended, `${app.name}: the operation stayed open`).toBeUndefined();
      expect(app.bodies, `${app.name}: every message once, in history order`).toEqual(stored);
      expect(app.connections, `${app.name}: reconnections`).toBeGreaterThanOrEqual(5);
    }
    expect(stored.length).toBeGreaterThan(0);

    // Each app got the shape it asked for: nothing the helper added for its cursor.
    const messageKeys = (app: App) => new Set(app.events.flatMap((e) => Object.keys((e as { message?: object }).message ?? {})));
    const eventKeys = (app: App) => new Set(app.events.flatMap((e) => Object.keys(e as object)));
    expect([...messageKeys(apps[0] as App)]).toEqual(['body']);
    expect([...eventKeys(apps[0] as App)].sort()).toEqual(['__typename', 'message']);
    expect([...messageKeys(apps[1] as App)].sort()).toEqual(['__typename', 'body', 'id', 'roomId', 'sentAt']);
    expect([...messageKeys(apps[2] as App)].sort()).toEqual(['body', 'id']);
  }, 240_000);

  it('with getToken, a token that expires every 3 s is refreshed in band: no 4403, one connection, no message lost', async ({ expect }) => {
    const server = await startTestApp();
    const senderToken = await signTestToken({ sub: 'sender', name: 'Sender' });
    const created = await gql<{ createRoom: { id: string } }>(
      server.graphqlUrl,
      'mutation { createRoom(name: "tokens") { id } }',
      {},
      senderToken,
    );
    const roomId = created.data?.createRoom.id as string;

    const getToken = async () => {
      return signTestToken({ sub: 'reader', name: 'Reader' }, { expiresIn: '3s' });
    };
    const inner = createClient({
      url: server.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: async () => ({ authorization: `Bearer ${await getToken()}` }),
    });
    const app = newApp('graphql-ws', inner);
    const closes: number[] = [];
    inner.on('closed', (event) => closes.push((event as { code: number }).code));
    const client = resumable(inner, { getToken });
    const stop = client.subscribe<{ roomEvents: unknown }>(
      {
        query: 'subscription($roomId: ID!) { roomEvents(roomId: $roomId) { __typename ... on MessageSent { message { body } } } }',
        variables: { roomId },
      },
      {
        next: ({ data }) => eventOf(app, data?.roomEvents),
        error: (error) => eventOf(app, undefined, error),
        complete: () => eventOf(app, undefined, 'complete'),
      },
    );
    onTestFinished(async () => {
      stop();
      await disposed(client);
    });
    await waitFor(
      async () => {
        const { room } = await read<{ room: { online: unknown[] } }>(
          server.graphqlUrl,
          'query($id: ID!) { room(id: $id) { online { connections } } }',
          { id: roomId },
          senderToken,
        );
        return room.online.length === 1;
      },
      10_000,
      'the reader subscribed',
    );

    const sender = startSender(server.graphqlUrl, roomId, senderToken);
    onTestFinished(() => sender.stop());
    // Four token lifetimes go by (the passage of time is what is tested): each token is refreshed over the socket
    // before it expires, so the server never closes it with 4403 and graphql-ws never has to reconnect.
    await delay(12_000);
    await sender.stop();
    const stored = await history(server.graphqlUrl, roomId, senderToken);
    await waitFor(() => stored.every((body) => app.bodies.includes(body)), 30_000, 'every message delivered');

    console.log(
      `token every 3 s: sent ${stored.length}, received ${app.bodies.length}, connections ${app.connections}, closes ${closes.join(',') || 'none'}`,
    );
    expect(app.ended).toBeUndefined();
    expect(closes).toEqual([]);
    expect(app.connections).toBe(1);
    expect(app.bodies).toEqual(stored);
    expect(stored.length).toBeGreaterThan(0);
  }, 120_000);

  it('iterate() goes through the helper too: the added variable and selection are sent, the event comes back as asked', async ({
    expect,
  }) => {
    const server = await startTestApp();
    const token = await signTestToken({ sub: 'sender', name: 'Sender' });
    const created = await gql<{ createRoom: { id: string } }>(
      server.graphqlUrl,
      'mutation { createRoom(name: "iterate") { id } }',
      {},
      token,
    );
    const roomId = created.data?.createRoom.id as string;
    const client = resumable(
      createClient({ url: server.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` } }),
    );
    onTestFinished(() => disposed(client));
    const first = await gql<{ sendMessage: { id: string } }>(server.graphqlUrl, SEND, { roomId, body: 'before', id: 'i-1' }, token);
    // A cursor the app already has: the helper continues from it, so only what follows arrives.
    const events = client.iterate<{ roomEvents: unknown }>({
      query:
        'subscription($roomId: ID!, $after: ID) { roomEvents(roomId: $roomId, after: $after) { ... on MessageSent { message { body } } } }',
      variables: { roomId, after: first.data?.sendMessage.id },
    });
    await waitFor(
      async () => {
        const { room } = await read<{ room: { online: unknown[] } }>(
          server.graphqlUrl,
          'query($id: ID!) { room(id: $id) { online { connections } } }',
          { id: roomId },
          token,
        );
        return room.online.length === 1;
      },
      10_000,
      'subscribed',
    );
    await gql(server.graphqlUrl, SEND, { roomId, body: 'after', id: 'i-2' }, token);
    let next = await events.next();
    // Presence of the subscriber itself comes first (an empty selection on MemberJoined), then the message.
    while (!next.done && JSON.stringify(next.value.data?.roomEvents) === '{}') next = await events.next();
    expect(next.value).toEqual({ data: { roomEvents: { message: { body: 'after' } } } });
    await events.return?.();
  });
});
