import { describe, expect, it } from 'vitest';
import { ROOM_EVENTS, createRoom, eventsOf, metric, online, send, user, watchedRoom } from '../utils/chat.ts';
import { gql } from '../utils/http-client.ts';
import { subscribeSse } from '../utils/sse-client.ts';
import { startTestApp } from '../utils/test-app.ts';
import { signTestToken } from '../utils/tokens.ts';
import { waitFor, within } from '../utils/wait.ts';
import { connectAuthed } from '../utils/ws-client.ts';

describe('connection lifecycle', () => {
  it('cleans up after a client that closes with 1000: presence left, connection and subscription gauges back to 0', async () => {
    const app = await startTestApp();
    const [alice, bob] = await Promise.all([user('alice'), user('bob')]);
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    const other = await createRoom(app.graphqlUrl, alice.token);
    const observer = await connectAuthed(app.wsUrl, alice.token);
    observer.subscribe('s', ROOM_EVENTS, { roomId });
    await observer.waitForNexts('s', 1);

    const client = await connectAuthed(app.wsUrl, bob.token);
    client.subscribe('a', ROOM_EVENTS, { roomId });
    client.subscribe('b', ROOM_EVENTS, { roomId: other });
    await Promise.all([client.waitForNexts('a', 1), client.waitForNexts('b', 1)]);
    expect(await metric(app.url, 'chat_ws_connections')).toBe(2);
    expect(await metric(app.url, 'chat_subscriptions')).toBe(3);

    await client.close(1000);
    await observer.waitForNexts('s', 3);
    expect(eventsOf(observer, 's').slice(1)).toEqual([
      { __typename: 'MemberJoined', roomId, user: { id: 'bob', name: 'Bob' } },
      { __typename: 'MemberLeft', roomId, user: { id: 'bob', name: 'Bob' } },
    ]);
    await waitFor(async () => (await metric(app.url, 'chat_ws_connections')) === 1, 5_000, 'chat_ws_connections 1');
    await waitFor(async () => (await metric(app.url, 'chat_subscriptions')) === 1, 5_000, 'chat_subscriptions 1');
    expect(await online(app.graphqlUrl, alice.token, other)).toEqual([]);

    await observer.close(1000);
    await waitFor(async () => (await metric(app.url, 'chat_ws_connections')) === 0, 5_000, 'chat_ws_connections 0');
    await waitFor(async () => (await metric(app.url, 'chat_subscriptions')) === 0, 5_000, 'chat_subscriptions 0');
    expect(await online(app.graphqlUrl, alice.token, roomId)).toEqual([]);
  });

  it('counts documentEvents and userEvents subscriptions in chat_subscriptions, and releases them', async () => {
    const app = await startTestApp();
    const alice = await user('alice');
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    const created = await gql<{ createDocument: { id: string } }>(
      app.graphqlUrl,
      'mutation($roomId: ID!) { createDocument(roomId: $roomId, title: "notes") { id } }',
      { roomId },
      alice.token,
    );
    const documentId = created.data!.createDocument.id;
    const client = await connectAuthed(app.wsUrl, alice.token);
    client.subscribe('doc', 'subscription($id: ID!) { documentEvents(documentId: $id) { __typename } }', { id: documentId });
    client.subscribe('me', 'subscription { userEvents { __typename } }');
    await waitFor(async () => (await metric(app.url, 'chat_subscriptions')) === 2, 5_000, 'chat_subscriptions 2');
    client.complete('doc');
    await waitFor(async () => (await metric(app.url, 'chat_subscriptions')) === 1, 5_000, 'chat_subscriptions 1');
    await client.close(1000);
    await waitFor(async () => (await metric(app.url, 'chat_subscriptions')) === 0, 5_000, 'chat_subscriptions 0');
  });

  it('releases an SSE subscription when its request is aborted', async () => {
    const app = await startTestApp();
    const alice = await user('alice');
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    const sse = await subscribeSse(app.graphqlUrl, ROOM_EVENTS, { roomId }, { token: alice.token });
    await sse.waitForNexts(1);
    expect(await metric(app.url, 'chat_subscriptions')).toBe(1);
    expect(await metric(app.url, 'chat_ws_connections')).toBe(0);
    await sse.close();
    await waitFor(async () => (await metric(app.url, 'chat_subscriptions')) === 0, 5_000, 'chat_subscriptions 0');
    expect(await online(app.graphqlUrl, alice.token, roomId)).toEqual([]);
  });

  it('counts messages in and deliveries out in /metrics', async () => {
    const { app, alice, roomId, observer: client } = await watchedRoom();
    const before = await metric(app.url, 'chat_messages_in_total');
    await send(app.graphqlUrl, alice.token, roomId, 'counted');
    await client.waitForNexts('s', 2);
    expect(await metric(app.url, 'chat_messages_in_total')).toBe(before + 1);
    // The only socket got two `next` frames: its own MemberJoined and the message.
    expect(client.nexts('s')).toHaveLength(2);
    expect(await metric(app.url, 'chat_ws_deliveries_total')).toBe(2);
  });

  it('reports MemberLeft when the server closes a socket whose token expired (4403)', async () => {
    const { app, roomId, observer } = await watchedRoom();
    const shortLived = await signTestToken({ sub: 'bob', name: 'Bob' }, { expiresIn: Math.floor(Date.now() / 1000) + 2 });
    const client = await connectAuthed(app.wsUrl, shortLived);
    client.subscribe('s', ROOM_EVENTS, { roomId });
    await client.waitForNexts('s', 1);
    expect((await within(client.closed, 5_000, 'expiry close')).code).toBe(4403);
    await observer.waitForNexts('s', 3);
    expect(eventsOf(observer, 's').slice(1)).toEqual([
      { __typename: 'MemberJoined', roomId, user: { id: 'bob', name: 'Bob' } },
      { __typename: 'MemberLeft', roomId, user: { id: 'bob', name: 'Bob' } },
    ]);
  });

  it('closes sockets with 1001 when the server stops, and refuses new ones', async () => {
    const { app, alice, observer: client } = await watchedRoom();
    const stopped = app.stop();
    expect((await within(client.closed, 5_000, 'shutdown close')).code).toBe(1001);
    await within(stopped, 10_000, 'stop');
    // The listener is closed: the connection itself is refused (no HTTP status at all).
    await expect(connectAuthed(app.wsUrl, alice.token)).rejects.toThrow(/ECONNREFUSED/);
  });
});
