import { describe, expect, it } from 'vitest';
import { ROOM_EVENTS, SEND_MESSAGE, createRoom, eventsOf, history, messageIds, send, sendHttp, user } from '../utils/chat.ts';
import { errorCodes, gql, type GraphQLResponse } from '../utils/http-client.ts';
import { useRedis } from '../utils/redis-server.ts';
import { startTestApp } from '../utils/test-app.ts';
import { connectAuthed, type RawClient } from '../utils/ws-client.ts';

const HIGH_RATE = { MESSAGE_RATE: '1000', MESSAGE_BURST: '1000' };
const redis = useRedis();

/** sendMessage as a mutation on an open socket; resolves with the single result payload once `complete` arrives. */
async function sendOverSocket(
  client: RawClient,
  id: string,
  variables: Record<string, unknown>,
): Promise<GraphQLResponse<{ sendMessage: { id: string; body: string } }>> {
  client.subscribe(id, SEND_MESSAGE, variables);
  await client.waitFor((m) => m.id === id && (m.type === 'complete' || m.type === 'error'));
  const error = client.received.find((m) => m.id === id && m.type === 'error');
  if (error) return { errors: error.payload };
  return client.nexts(id)[0];
}

describe('sendMessage over HTTP', () => {
  it('stores a trimmed body and returns it with the author', async () => {
    const app = await startTestApp();
    const alice = await user('alice');
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    const sent = await send(app.graphqlUrl, alice.token, roomId, '  hello world \n');
    expect(sent).toMatchObject({ roomId, author: { id: 'alice', name: 'Alice' }, body: 'hello world', clientMessageId: null });
    expect(Number.isNaN(Date.parse(sent.sentAt!))).toBe(false);
    expect(await history(app.graphqlUrl, alice.token, roomId)).toEqual([
      { id: sent.id, roomId, author: { id: 'alice', name: 'Alice' }, body: 'hello world', clientMessageId: null },
    ]);
  });

  it('refuses an empty, a whitespace-only and a 4001-character body with BAD_USER_INPUT and stores nothing', async () => {
    const app = await startTestApp();
    const alice = await user('alice');
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    for (const body of ['', '   \n\t ', 'x'.repeat(4001), ` ${'y'.repeat(4001)} `]) {
      const response = await sendHttp(app.graphqlUrl, alice.token, roomId, body);
      expect(response.data).toBeNull();
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    }
    expect(await history(app.graphqlUrl, alice.token, roomId)).toEqual([]);
  });

  it('accepts exactly 4000 characters, counted after trim', async () => {
    const app = await startTestApp();
    const alice = await user('alice');
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    const body = 'z'.repeat(4000);
    expect((await send(app.graphqlUrl, alice.token, roomId, `  ${body}  `)).body).toBe(body);
    expect((await history(app.graphqlUrl, alice.token, roomId)).map((m) => m.body)).toEqual([body]);
  });

  it('answers NOT_FOUND for an unknown room and UNAUTHENTICATED without a token', async () => {
    const app = await startTestApp();
    const alice = await user('alice');
    expect(errorCodes(await sendHttp(app.graphqlUrl, alice.token, 'r_nope', 'hi'))).toEqual(['NOT_FOUND']);
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    expect(errorCodes(await gql(app.graphqlUrl, SEND_MESSAGE, { roomId, body: 'hi' }))).toEqual(['UNAUTHENTICATED']);
    expect(await history(app.graphqlUrl, alice.token, roomId)).toEqual([]);
  });

  it('gives ids that sort in send order, as strings too', async () => {
    const app = await startTestApp(HIGH_RATE);
    const alice = await user('alice');
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    // Past 9 and 99, where numeric and string order part if ids are not padded.
    const ids: string[] = [];
    for (let i = 1; i <= 105; i++) ids.push((await send(app.graphqlUrl, alice.token, roomId, `m${i}`)).id);
    expect(new Set(ids).size).toBe(105);
    expect([...ids].sort()).toEqual(ids);
    expect((await history(app.graphqlUrl, alice.token, roomId)).map((m) => m.id)).toEqual(ids);
  });

  it('pages history with messages(last, before), oldest first', async () => {
    const app = await startTestApp(HIGH_RATE);
    const alice = await user('alice');
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    const sent: string[] = [];
    for (let i = 1; i <= 12; i++) sent.push((await send(app.graphqlUrl, alice.token, roomId, `m${i}`)).id);

    const page = async (last: number, before?: string) => {
      const response = await gql<{ room: { messages: Array<{ id: string; body: string }> } }>(
        app.graphqlUrl,
        'query($id: ID!, $last: Int, $before: ID) { room(id: $id) { messages(last: $last, before: $before) { id body } } }',
        { id: roomId, last, before },
        alice.token,
      );
      expect(response.errors).toBeUndefined();
      return response.data!.room.messages;
    };
    expect((await page(5)).map((m) => m.body)).toEqual(['m8', 'm9', 'm10', 'm11', 'm12']);
    expect((await page(5, sent[7])).map((m) => m.body)).toEqual(['m3', 'm4', 'm5', 'm6', 'm7']);
    expect((await page(5, sent[2])).map((m) => m.body)).toEqual(['m1', 'm2']);
    expect(await page(5, sent[0])).toEqual([]);

    // Walking back page by page visits every message once.
    const walked: string[] = [];
    let before: string | undefined;
    for (;;) {
      const older = await page(5, before);
      if (older.length === 0) break;
      walked.unshift(...older.map((m) => m.id));
      before = older[0]!.id;
    }
    expect(walked).toEqual(sent);

    const defaultPage = await gql<{ room: { messages: unknown[] } }>(
      app.graphqlUrl,
      'query($id: ID!) { room(id: $id) { messages { id } } }',
      { id: roomId },
      alice.token,
    );
    expect(defaultPage.data!.room.messages).toHaveLength(12);
  });

  it('answers BAD_USER_INPUT for a clientMessageId of 0 or more than 128 characters, and for a negative `last`', async () => {
    const app = await startTestApp();
    const alice = await user('alice');
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    expect(errorCodes(await sendHttp(app.graphqlUrl, alice.token, roomId, 'hi', ''))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await sendHttp(app.graphqlUrl, alice.token, roomId, 'hi', 'k'.repeat(129)))).toEqual(['BAD_USER_INPUT']);
    expect((await send(app.graphqlUrl, alice.token, roomId, 'hi', 'k'.repeat(128))).clientMessageId).toBe('k'.repeat(128));
    const negative = await gql(
      app.graphqlUrl,
      'query($id: ID!) { room(id: $id) { messages(last: -1) { id } } }',
      { id: roomId },
      alice.token,
    );
    expect(errorCodes(negative)).toEqual(['BAD_USER_INPUT']);
    expect((await history(app.graphqlUrl, alice.token, roomId)).map((m) => m.body)).toEqual(['hi']);
  });

  it('answers BAD_USER_INPUT for a `before` that is not a message id of the room', async () => {
    const app = await startTestApp();
    const alice = await user('alice');
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    const response = await gql(
      app.graphqlUrl,
      'query($id: ID!) { room(id: $id) { messages(before: "garbage") { id } } }',
      { id: roomId },
      alice.token,
    );
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('sendMessage over WebSocket', () => {
  it('accepts a mutation sent on the socket and validates it the same way', async () => {
    const app = await startTestApp();
    const alice = await user('alice');
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    const client = await connectAuthed(app.wsUrl, alice.token);

    const ok = await sendOverSocket(client, 'm1', { roomId, body: ' over the socket ' });
    expect(ok.errors).toBeUndefined();
    expect(ok.data!.sendMessage).toMatchObject({ body: 'over the socket', author: { id: 'alice', name: 'Alice' } });

    for (const [id, body] of [
      ['m2', ''],
      ['m3', '  '],
      ['m4', 'x'.repeat(4001)],
    ] as const) {
      const refused = await sendOverSocket(client, id, { roomId, body });
      expect(errorCodes(refused)).toEqual(['BAD_USER_INPUT']);
    }
    expect(client.socket.readyState).toBe(client.socket.OPEN);
    expect((await history(app.graphqlUrl, alice.token, roomId)).map((m) => m.body)).toEqual(['over the socket']);
  });
});

describe('idempotent sendMessage (clientMessageId)', () => {
  it('returns the stored message on a retry, keeps one copy and delivers one MessageSent', async () => {
    const app = await startTestApp();
    const [alice, bob] = await Promise.all([user('alice'), user('bob')]);
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    const watcher = await connectAuthed(app.wsUrl, bob.token);
    watcher.subscribe('s', ROOM_EVENTS, { roomId });
    await watcher.waitForNexts('s', 1); // its own MemberJoined: the subscription is live

    const first = await send(app.graphqlUrl, alice.token, roomId, 'once', 'c-1');
    const retry = await send(app.graphqlUrl, alice.token, roomId, 'once', 'c-1');
    // A retry with another body (the client's second attempt after editing) still returns the stored message.
    const retryOverSocket = await sendOverSocket(await connectAuthed(app.wsUrl, alice.token), 'r', {
      roomId,
      body: 'changed',
      clientMessageId: 'c-1',
    });
    expect(retry).toEqual(first);
    expect(retryOverSocket.data!.sendMessage).toMatchObject({ id: first.id, body: 'once' });
    expect(first.clientMessageId).toBe('c-1');

    const marker = await send(app.graphqlUrl, alice.token, roomId, 'marker');
    await watcher.waitFor((m) => m.id === 's' && m.type === 'next' && m.payload.data.roomEvents.message?.id === marker.id);
    expect(messageIds(eventsOf(watcher, 's'))).toEqual([first.id, marker.id]);
    expect((await history(app.graphqlUrl, alice.token, roomId)).map((m) => m.id)).toEqual([first.id, marker.id]);
  });

  it('stores one message when retries with the same clientMessageId race each other over HTTP and WebSocket', async () => {
    const app = await startTestApp(HIGH_RATE);
    const alice = await user('alice');
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    const socket = await connectAuthed(app.wsUrl, alice.token);
    const results = await Promise.all([
      ...Array.from({ length: 5 }, () => send(app.graphqlUrl, alice.token, roomId, 'racing', 'race-1')),
      ...Array.from({ length: 3 }, (_, i) =>
        sendOverSocket(socket, `r${i}`, { roomId, body: 'racing', clientMessageId: 'race-1' }).then((r) => r.data!.sendMessage),
      ),
    ]);
    expect(new Set(results.map((m) => m.id)).size).toBe(1);
    expect((await history(app.graphqlUrl, alice.token, roomId)).map((m) => m.id)).toEqual([results[0]!.id]);
  });

  it('gives another author with the same clientMessageId a message of their own', async () => {
    const app = await startTestApp();
    const [alice, bob] = await Promise.all([user('alice'), user('bob')]);
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    const fromAlice = await send(app.graphqlUrl, alice.token, roomId, 'from alice', 'same');
    const fromBob = await send(app.graphqlUrl, bob.token, roomId, 'from bob', 'same');
    expect(fromBob.id).not.toBe(fromAlice.id);
    expect(fromBob).toMatchObject({ body: 'from bob', author: { id: 'bob' }, clientMessageId: 'same' });
    expect((await history(app.graphqlUrl, alice.token, roomId)).map((m) => m.body)).toEqual(['from alice', 'from bob']);
  });

  it('keys idempotency by room as well: the same clientMessageId in another room is a new message', async () => {
    const app = await startTestApp();
    const alice = await user('alice');
    const [roomA, roomB] = [await createRoom(app.graphqlUrl, alice.token), await createRoom(app.graphqlUrl, alice.token)];
    const a = await send(app.graphqlUrl, alice.token, roomA, 'in a', 'k');
    const b = await send(app.graphqlUrl, alice.token, roomB, 'in b', 'k');
    expect(b.id).not.toBe(a.id);
    expect(b.roomId).toBe(roomB);
  });
});

describe('MESSAGE_RATE', () => {
  it('returns the stored message to a clientMessageId retry even when the user is at the rate limit', async () => {
    // The retry of a message whose ack was lost is not a new message: answering RATE_LIMITED would tell the client
    // its message failed although it is stored (CONTRACT: a retry returns the stored message).
    const app = await startTestApp({ MESSAGE_RATE: '1', MESSAGE_BURST: '1' });
    const alice = await user('alice');
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    const first = await send(app.graphqlUrl, alice.token, roomId, 'hello', 'retry-me');
    const retry = await sendHttp(app.graphqlUrl, alice.token, roomId, 'hello', 'retry-me');
    expect(errorCodes(retry)).toEqual([]);
    expect(retry.data?.sendMessage).toEqual(first);
    expect((await history(app.graphqlUrl, alice.token, roomId)).map((m) => m.id)).toEqual([first.id]);
  });

  it('answers RATE_LIMITED past the burst, stores nothing for the refused message, keeps the socket open', async () => {
    // A refill of 1 token a second: the third send is refused unless a whole second passes between sends.
    const app = await startTestApp({ MESSAGE_RATE: '1', MESSAGE_BURST: '2' });
    const [alice, bob] = await Promise.all([user('alice'), user('bob')]);
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    const client = await connectAuthed(app.wsUrl, alice.token);

    expect((await sendOverSocket(client, 'a', { roomId, body: 'one' })).errors).toBeUndefined();
    expect((await sendOverSocket(client, 'b', { roomId, body: 'two' })).errors).toBeUndefined();
    const refused = await sendOverSocket(client, 'c', { roomId, body: 'three' });
    expect(errorCodes(refused)).toEqual(['RATE_LIMITED']);
    expect(errorCodes(await sendHttp(app.graphqlUrl, alice.token, roomId, 'four'))).toEqual(['RATE_LIMITED']);

    expect(client.socket.readyState).toBe(client.socket.OPEN);
    client.subscribe('q', '{ me { id } }');
    expect((await client.waitForNexts('q', 1))[0]).toEqual({ data: { me: { id: 'alice' } } });
    // The limit is per user: bob is not slowed down by alice.
    expect((await sendHttp(app.graphqlUrl, bob.token, roomId, 'bob')).errors).toBeUndefined();
    expect((await history(app.graphqlUrl, alice.token, roomId)).map((m) => m.body)).toEqual(['one', 'two', 'bob']);
  });
});

describe.each([
  { backend: 'memory', env: (): Record<string, string> => ({}) },
  { backend: 'redis', env: (): Record<string, string> => ({ REDIS_URL: redis().url, REDIS_PREFIX: redis().newPrefix() }) },
])('sendMessage checks in one step of the store ($backend): access, retry, rate', ({ env }) => {
  it('answers NOT_FOUND and FORBIDDEN without spending a token, RATE_LIMITED past the burst, a retry its stored message', async () => {
    const app = await startTestApp({ ...env(), MESSAGE_RATE: '1', MESSAGE_BURST: '2' });
    const [alice, carol] = await Promise.all([user('alice'), user('carol')]);
    const secret = await createRoom(app.graphqlUrl, alice.token, { private: true, members: ['bob'] });
    const open = await createRoom(app.graphqlUrl, alice.token);
    expect(errorCodes(await sendHttp(app.graphqlUrl, carol.token, 'r_nope', 'hi', 'c1'))).toEqual(['NOT_FOUND']);
    for (let n = 0; n < 3; n++)
      expect(errorCodes(await sendHttp(app.graphqlUrl, carol.token, secret, 'let me in', 'c1'))).toEqual(['FORBIDDEN']);

    // Carol's two tokens are both still there; the third message finds the bucket empty (1 refill a second).
    const first = await send(app.graphqlUrl, carol.token, open, 'one', 'c1');
    await send(app.graphqlUrl, carol.token, open, 'two');
    expect(errorCodes(await sendHttp(app.graphqlUrl, carol.token, open, 'three', 'c3'))).toEqual(['RATE_LIMITED']);
    const retry = await sendHttp(app.graphqlUrl, carol.token, open, 'one again', 'c1');
    expect(errorCodes(retry)).toEqual([]);
    expect(retry.data?.sendMessage).toEqual(first);
    expect((await history(app.graphqlUrl, alice.token, open)).map((m) => m.body)).toEqual(['one', 'two']);
    expect(await history(app.graphqlUrl, alice.token, secret)).toEqual([]);
  });
});
