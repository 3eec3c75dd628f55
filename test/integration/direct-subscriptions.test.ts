import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ROOM_EVENTS, createRoom, eventsOf, messageIds, metric, online, send, user, watchedRoom } from '../utils/chat.ts';
import { startTestApp } from '../utils/test-app.ts';
import { signTestToken } from '../utils/tokens.ts';
import { waitFor, within } from '../utils/wait.ts';
import { connectAuthed } from '../utils/ws-client.ts';

// Shared roomEvents subscriptions over WebSocket take the direct path (src/ws/direct-subscriptions.ts), outside
// graphql-ws's per-operation state, in their session's own table; these are the protocol cases that path handles
// itself, and those where the two paths meet on one socket (ids, limits).
describe('WebSocket subscriptions on the direct path', () => {
  it('a subscription completed while it is being set up delivers nothing after the complete and leaves no presence', async () => {
    const { app, alice, bob, roomId, observer } = await watchedRoom();
    const client = await connectAuthed(app.wsUrl, bob.token);
    // Sent back to back: the complete usually arrives before the subscription is set up.
    client.subscribe('x', ROOM_EVENTS, { roomId });
    client.complete('x');

    const sent = await send(app.graphqlUrl, alice.token, roomId, 'after the complete');
    await waitFor(() => messageIds(eventsOf(observer, 's')).includes(sent.id), 5_000, 'the observer to get the message');
    await waitFor(
      async () => !(await online(app.graphqlUrl, alice.token, roomId)).some((m) => m.user.id === bob.id),
      5_000,
      'bob to be gone',
    );
    expect(messageIds(eventsOf(client, 'x'))).toEqual([]);
    expect(client.received.filter((m) => m.id === 'x' && m.type !== 'next')).toEqual([]);
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('takes an id again once its subscription is completed, and the new one gets each event once', async () => {
    const { app, alice, roomId, observer } = await watchedRoom();
    const before = await send(app.graphqlUrl, alice.token, roomId, 'before any y');
    // Every y resumes from a message, so what is sent meanwhile arrives once whether y is live yet or not.
    observer.subscribe('y', ROOM_EVENTS, { roomId, after: before.id });
    const first = await send(app.graphqlUrl, alice.token, roomId, 'to the first y');
    await waitFor(() => messageIds(eventsOf(observer, 's')).includes(first.id), 5_000, 's to get the first message');
    await waitFor(() => messageIds(eventsOf(observer, 'y')).includes(first.id), 5_000, 'y to get the first message');
    observer.complete('y');
    observer.subscribe('y', ROOM_EVENTS, { roomId, after: first.id });
    const second = await send(app.graphqlUrl, alice.token, roomId, 'to the second y');
    await waitFor(() => messageIds(eventsOf(observer, 'y')).includes(second.id), 5_000, 'y to get the second message');
    await waitFor(() => messageIds(eventsOf(observer, 's')).includes(second.id), 5_000, 's to get the second message');
    expect(messageIds(eventsOf(observer, 'y'))).toEqual([first.id, second.id]);
    expect(messageIds(eventsOf(observer, 's'))).toEqual([before.id, first.id, second.id]);
  });

  it('ends every direct subscription of a socket when it closes: presence left, subscription gauge back', async () => {
    const { app, alice, bob, roomId } = await watchedRoom();
    const client = await connectAuthed(app.wsUrl, bob.token);
    for (const id of ['a', 'b', 'c']) client.subscribe(id, ROOM_EVENTS, { roomId });
    await Promise.all(['a', 'b', 'c'].map((id) => client.waitForNexts(id, 1)));
    expect((await online(app.graphqlUrl, alice.token, roomId)).find((m) => m.user.id === bob.id)?.connections).toBe(3);
    expect(await metric(app.url, 'chat_subscriptions')).toBe(4);
    await client.close();
    await waitFor(
      async () => !(await online(app.graphqlUrl, alice.token, roomId)).some((m) => m.user.id === bob.id),
      5_000,
      'bob to be gone',
    );
    await waitFor(async () => (await metric(app.url, 'chat_subscriptions')) === 1, 5_000, 'chat_subscriptions back to 1');
  });

  it('gives subscribers with different operation ids the same event, each under its own id, as text frames', async () => {
    const { app, alice, roomId } = await watchedRoom();
    const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const readers = await Promise.all(ids.map(async (id) => ({ id, client: await connectAuthed(app.wsUrl, alice.token) })));
    // Resumed from a message, so the next one arrives once whether or not a reader is live yet.
    const before = await send(app.graphqlUrl, alice.token, roomId, 'before the readers');
    for (const { id, client } of readers) client.subscribe(id, ROOM_EVENTS, { roomId, after: before.id });
    const sent = await send(app.graphqlUrl, alice.token, roomId, 'to every id');
    for (const { id, client } of readers) {
      await waitFor(() => messageIds(eventsOf(client, id)).includes(sent.id), 5_000, `reader ${id}`);
      expect(client.received.filter((m) => m.type === 'binary frame')).toEqual([]);
      expect(eventsOf(client, id).find((e) => e.message?.id === sent.id)).toEqual(
        eventsOf(readers[0]!.client, 'a').find((e) => e.message?.id === sent.id),
      );
    }
  });

  it('one socket, both paths: an id held by either is a duplicate for the other (4409), and one limit counts both', async () => {
    const app = await startTestApp({ MAX_SUBSCRIPTIONS_PER_CONNECTION: '2' });
    const alice = await user('alice');
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    // serverStats runs in graphql-ws's own loop, roomEvents on the direct path.
    const admin = await connectAuthed(app.wsUrl, await signTestToken({ sub: 'admin', roles: ['admin'] }));
    admin.subscribe('stats', 'subscription { serverStats { instances } }');
    admin.subscribe('room', ROOM_EVENTS, { roomId });
    await admin.waitForNexts('stats', 1);
    await admin.waitForNexts('room', 1);
    for (const [id, query] of [
      ['over', ROOM_EVENTS],
      ['over-loop', 'subscription { serverStats { instances } }'],
    ] as const) {
      admin.subscribe(id, query, { roomId });
      const refused = await admin.waitFor((m) => m.id === id);
      expect(refused).toMatchObject({ type: 'error', payload: [{ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } }] });
    }
    // The direct path's `complete` frees its slot for either path.
    admin.complete('room');
    admin.subscribe('room-again', ROOM_EVENTS, { roomId });
    await admin.waitForNexts('room-again', 1);

    // A shared subscribe under the id of graphql-ws's running operation, and the other way round.
    admin.subscribe('stats', ROOM_EVENTS, { roomId });
    expect((await within(admin.closed)).code).toBe(4409);
    const other = await connectAuthed(app.wsUrl, await signTestToken({ sub: 'admin', roles: ['admin'] }));
    other.subscribe('room', ROOM_EVENTS, { roomId });
    await other.waitForNexts('room', 1);
    other.subscribe('room', 'subscription { serverStats { instances } }');
    expect((await within(other.closed)).code).toBe(4409);
  });
});
