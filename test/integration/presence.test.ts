import { describe, expect, it } from 'vitest';
import {
  ROOM_EVENTS,
  SET_TYPING,
  createRoom,
  eventsOf,
  metric,
  online,
  send,
  user,
  watchedRoom,
  type RoomEventPayload,
} from '../utils/chat.ts';
import { errorCodes, gql } from '../utils/http-client.ts';
import { subscribeSse } from '../utils/sse-client.ts';
import { privateRedisServer } from '../contract/backends.ts';
import { startTestApp, type TestApp } from '../utils/test-app.ts';
import { waitFor } from '../utils/wait.ts';
import { connectAuthed, type RawClient } from '../utils/ws-client.ts';

const presenceOf = (events: RoomEventPayload[]) =>
  events.filter((e) => e.__typename === 'MemberJoined' || e.__typename === 'MemberLeft').map((e) => `${e.__typename}:${e.user!.id}`);

async function openTab(app: TestApp, token: string, roomId: string): Promise<RawClient> {
  const tab = await connectAuthed(app.wsUrl, token);
  tab.subscribe('s', ROOM_EVENTS, { roomId });
  return tab;
}

const bobConnections = async (app: TestApp, token: string, roomId: string) =>
  (await online(app.graphqlUrl, token, roomId)).find((p) => p.user.id === 'bob')?.connections ?? 0;

/**
 * Proves that no presence event is pending: the bus is ordered, so once a message sent now reaches the observer,
 * anything published before it has arrived too. No sleep needed to show that something did not happen.
 */
async function flush(app: TestApp, token: string, roomId: string, observer: RawClient) {
  const marker = await send(app.graphqlUrl, token, roomId, 'marker');
  await observer.waitFor((m) => m.id === 's' && m.type === 'next' && m.payload.data.roomEvents.message?.id === marker.id);
}

describe('presence', () => {
  it('announces a user with two WebSocket tabs once, counts 2 connections, and leaves only when the last tab closes', async () => {
    const { app, alice, bob, roomId, observer } = await watchedRoom();
    const tab1 = await openTab(app, bob.token, roomId);
    await waitFor(async () => (await bobConnections(app, alice.token, roomId)) === 1, 5_000, 'first tab counted');
    const tab2 = await openTab(app, bob.token, roomId);
    await waitFor(async () => (await bobConnections(app, alice.token, roomId)) === 2, 5_000, 'second tab counted');

    const presence = await online(app.graphqlUrl, alice.token, roomId);
    expect(presence.sort((a, b) => a.user.id.localeCompare(b.user.id))).toEqual([
      { user: { id: 'alice' }, connections: 1 },
      { user: { id: 'bob' }, connections: 2 },
    ]);
    await flush(app, alice.token, roomId, observer);
    expect(presenceOf(eventsOf(observer, 's'))).toEqual(['MemberJoined:alice', 'MemberJoined:bob']);

    await tab1.close();
    await waitFor(async () => (await bobConnections(app, alice.token, roomId)) === 1, 5_000, 'first tab gone');
    await flush(app, alice.token, roomId, observer);
    expect(presenceOf(eventsOf(observer, 's'))).toEqual(['MemberJoined:alice', 'MemberJoined:bob']);

    await tab2.close();
    await observer.waitFor((m) => m.id === 's' && m.payload?.data.roomEvents.__typename === 'MemberLeft');
    await flush(app, alice.token, roomId, observer);
    expect(presenceOf(eventsOf(observer, 's'))).toEqual(['MemberJoined:alice', 'MemberJoined:bob', 'MemberLeft:bob']);
    expect(eventsOf(observer, 's').find((e) => e.__typename === 'MemberLeft')).toEqual({
      __typename: 'MemberLeft',
      roomId,
      user: { id: 'bob', name: 'Bob' },
    });
    expect(await bobConnections(app, alice.token, roomId)).toBe(0);
  });

  it('counts a WebSocket tab and an SSE tab of one user as one presence with 2 connections', async () => {
    const { app, alice, bob, roomId, observer } = await watchedRoom();
    const wsTab = await openTab(app, bob.token, roomId);
    await waitFor(async () => (await bobConnections(app, alice.token, roomId)) === 1, 5_000, 'ws tab counted');
    const sseTab = await subscribeSse(app.graphqlUrl, ROOM_EVENTS, { roomId }, { token: bob.token });
    await waitFor(async () => (await bobConnections(app, alice.token, roomId)) === 2, 5_000, 'sse tab counted');
    await flush(app, alice.token, roomId, observer);
    expect(presenceOf(eventsOf(observer, 's'))).toEqual(['MemberJoined:alice', 'MemberJoined:bob']);

    await wsTab.close();
    await waitFor(async () => (await bobConnections(app, alice.token, roomId)) === 1, 5_000, 'ws tab gone');
    await flush(app, alice.token, roomId, observer);
    expect(presenceOf(eventsOf(observer, 's'))).toEqual(['MemberJoined:alice', 'MemberJoined:bob']);

    await sseTab.close();
    await observer.waitFor((m) => m.id === 's' && m.payload?.data.roomEvents.__typename === 'MemberLeft');
    await flush(app, alice.token, roomId, observer);
    expect(presenceOf(eventsOf(observer, 's'))).toEqual(['MemberJoined:alice', 'MemberJoined:bob', 'MemberLeft:bob']);
  });

  it('shows since as the time of the first connection, unchanged by a second tab', async () => {
    const { app, alice, bob, roomId } = await watchedRoom();
    await openTab(app, bob.token, roomId);
    const sinceOfBob = async () => {
      const response = await gql<{ room: { online: Array<{ user: { id: string }; connections: number; since: string }> } }>(
        app.graphqlUrl,
        'query($id: ID!) { room(id: $id) { online { user { id } connections since } } }',
        { id: roomId },
        alice.token,
      );
      return response.data!.room.online.find((p) => p.user.id === 'bob');
    };
    await waitFor(async () => (await sinceOfBob())?.connections === 1, 5_000, 'bob online');
    const first = (await sinceOfBob())!.since;
    expect(Number.isNaN(Date.parse(first))).toBe(false);
    await openTab(app, bob.token, roomId);
    await waitFor(async () => (await sinceOfBob())?.connections === 2, 5_000, 'second tab');
    expect((await sinceOfBob())!.since).toBe(first);
  });

  it('treats `complete` of the subscription as leaving while the socket stays open', async () => {
    const { app, alice, bob, roomId, observer } = await watchedRoom();
    const tab = await openTab(app, bob.token, roomId);
    await observer.waitFor(
      (m) => m.id === 's' && m.payload?.data.roomEvents.__typename === 'MemberJoined' && m.payload.data.roomEvents.user.id === 'bob',
    );
    tab.complete('s');
    await observer.waitFor((m) => m.id === 's' && m.payload?.data.roomEvents.__typename === 'MemberLeft');
    expect(tab.socket.readyState).toBe(tab.socket.OPEN);
    expect(await bobConnections(app, alice.token, roomId)).toBe(0);

    // The same socket may come back: a new subscription is a new MemberJoined.
    tab.subscribe('s2', ROOM_EVENTS, { roomId });
    await tab.waitForNexts('s2', 1);
    await flush(app, alice.token, roomId, observer);
    expect(presenceOf(eventsOf(observer, 's'))).toEqual(['MemberJoined:alice', 'MemberJoined:bob', 'MemberLeft:bob', 'MemberJoined:bob']);
  });

  it('leaves no ghost presence when a subscription is completed, or its socket closed, before it went live', async () => {
    const { app, alice, bob, roomId, observer } = await watchedRoom();
    const tab = await connectAuthed(app.wsUrl, bob.token);
    for (let i = 0; i < 5; i++) {
      tab.subscribe(`s${i}`, ROOM_EVENTS, { roomId, ...(i % 2 ? {} : { after: null }) });
      tab.complete(`s${i}`);
    }
    const closing = await connectAuthed(app.wsUrl, bob.token);
    closing.subscribe('s', ROOM_EVENTS, { roomId });
    closing.socket.terminate();
    await flush(app, alice.token, roomId, observer);
    await waitFor(async () => (await bobConnections(app, alice.token, roomId)) === 0, 5_000, 'no connection left for bob');
    await waitFor(async () => (await metric(app.url, 'chat_subscriptions')) === 1, 5_000, 'only the observer subscribed');
    // Whatever went live also left: joins and leaves of bob pair up.
    await flush(app, alice.token, roomId, observer);
    const ofBob = presenceOf(eventsOf(observer, 's')).filter((e) => e.endsWith(':bob'));
    expect(ofBob.filter((e) => e.startsWith('MemberJoined')).length).toBe(ofBob.filter((e) => e.startsWith('MemberLeft')).length);
    expect(tab.socket.readyState).toBe(tab.socket.OPEN);
  });

  it('reports MemberLeft when a socket is terminated without a close frame', async () => {
    const { app, alice, bob, roomId, observer } = await watchedRoom();
    const tab = await openTab(app, bob.token, roomId);
    await observer.waitFor(
      (m) => m.id === 's' && m.payload?.data.roomEvents.__typename === 'MemberJoined' && m.payload.data.roomEvents.user.id === 'bob',
    );
    tab.socket.terminate();
    await observer.waitFor((m) => m.id === 's' && m.payload?.data.roomEvents.__typename === 'MemberLeft');
    await flush(app, alice.token, roomId, observer);
    expect(presenceOf(eventsOf(observer, 's'))).toEqual(['MemberJoined:alice', 'MemberJoined:bob', 'MemberLeft:bob']);
    expect(await bobConnections(app, alice.token, roomId)).toBe(0);
  });

  it('counts two subscriptions to the same room on one socket as two connections', async () => {
    const { app, alice, bob, roomId, observer } = await watchedRoom();
    const tab = await openTab(app, bob.token, roomId);
    tab.subscribe('s2', ROOM_EVENTS, { roomId });
    await waitFor(async () => (await bobConnections(app, alice.token, roomId)) === 2, 5_000, 'two subscriptions counted');
    tab.complete('s');
    await waitFor(async () => (await bobConnections(app, alice.token, roomId)) === 1, 5_000, 'one left');
    await flush(app, alice.token, roomId, observer);
    expect(presenceOf(eventsOf(observer, 's'))).toEqual(['MemberJoined:alice', 'MemberJoined:bob']);
    await tab.close();
    await observer.waitFor((m) => m.id === 's' && m.payload?.data.roomEvents.__typename === 'MemberLeft');
  });
});

describe('presence over Redis when Redis refuses PUBLISH', () => {
  it('records no ghost: the subscription gets UNAVAILABLE (naming no key or channel) and room.online stays empty', async () => {
    const redis = await privateRedisServer();
    const prefix = redis.newPrefix();
    const ttlMs = 300;
    const app = await startTestApp({ REDIS_URL: redis.url, REDIS_PREFIX: prefix, PRESENCE_TTL_MS: String(ttlMs) });
    const alice = await user('alice');
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    // Everything else still works (SUBSCRIBE, scripts, reads): only the MemberJoined cannot be published.
    await redis.command('ACL', 'SETUSER', 'default', '-publish');

    const tab = await connectAuthed(app.wsUrl, alice.token);
    tab.subscribe('s', ROOM_EVENTS, { roomId });
    // A subscribe that fails at its source is answered as graphql-ws does it: one `next` holding the errors.
    const failure = await tab.waitFor((m) => m.id === 's' && m.type === 'next', 10_000);
    const [error] = (failure.payload as { errors?: Array<{ message: string; extensions?: { code?: string } }> }).errors ?? [];
    expect(error!.extensions?.code).toBe('UNAVAILABLE');
    expect(error!.message).not.toContain(prefix);
    expect(error!.message).not.toMatch(/room-events|presence-|PUBLISH/);

    // The bus's own PUBLISH (typing) fails the same way: UNAVAILABLE, and the channel stays in the log.
    const typing = await gql(app.graphqlUrl, SET_TYPING, { roomId, typing: true }, alice.token);
    expect(errorCodes(typing)).toEqual(['UNAVAILABLE']);
    expect(typing.errors![0]!.message).not.toContain(prefix);
    expect(typing.errors![0]!.message).not.toMatch(/room-events|PUBLISH/);

    expect(await online(app.graphqlUrl, alice.token, roomId)).toEqual([]);
    // Nothing to await for "stays empty": give this instance's refresh (ttl/3) and reaper (ttl/2) several turns.
    await new Promise((resolve) => setTimeout(resolve, 3 * ttlMs));
    expect(await online(app.graphqlUrl, alice.token, roomId)).toEqual([]);
    // The refused join left at most its expiry entry, which names no connection: the reaper drops it.
    await waitFor(async () => (await redis.command('ZCARD', `${prefix}presence-expiry`)) === 0, 5_000, 'no expiry entry left');
    expect(await online(app.graphqlUrl, alice.token, roomId)).toEqual([]);
  });
});
