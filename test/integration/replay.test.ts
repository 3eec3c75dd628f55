import { describe, expect, it, onTestFinished } from 'vitest';
import { ROOM_EVENTS, SEND_MESSAGE, createRoom, eventsOf, history, messageIds, online, send, user } from '../utils/chat.ts';
import { errorCodes, gql, type GraphQLResponse } from '../utils/http-client.ts';
import { useRedis } from '../utils/redis-server.ts';
import { subscribeSse } from '../utils/sse-client.ts';
import { startTestApp } from '../utils/test-app.ts';
import { waitFor, within } from '../utils/wait.ts';
import { connectAuthed, type RawClient } from '../utils/ws-client.ts';

const HIGH_RATE = { MESSAGE_RATE: '10000', MESSAGE_BURST: '10000' };

/** The GraphQL errors an operation ended with, whether graphql-ws sent them as `error` or as a `next` then `complete`. */
async function operationErrors(client: RawClient, id: string): Promise<GraphQLResponse> {
  const end = await client.waitFor((m) => m.id === id && (m.type === 'error' || m.type === 'complete'));
  if (end.type === 'error') return { errors: end.payload };
  return client.nexts(id)[0] ?? {};
}

describe('roomEvents: live delivery', () => {
  it('delivers MessageSent events in send order with the exact payload', async () => {
    const app = await startTestApp(HIGH_RATE);
    const [alice, bob] = await Promise.all([user('alice'), user('bob')]);
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    const client = await connectAuthed(app.wsUrl, bob.token);
    client.subscribe('s', ROOM_EVENTS, { roomId });
    const [joined] = await client.waitForNexts('s', 1);
    expect(joined).toEqual({ data: { roomEvents: { __typename: 'MemberJoined', roomId, user: { id: 'bob', name: 'Bob' } } } });

    const sent = [];
    for (let i = 0; i < 20; i++) sent.push(await send(app.graphqlUrl, alice.token, roomId, `hello ${i}`, i === 0 ? 'cid' : undefined));
    const events = (await client.waitForNexts('s', 21)).slice(1);
    expect(events[0]).toEqual({
      data: {
        roomEvents: {
          __typename: 'MessageSent',
          message: { id: sent[0]!.id, roomId, author: { id: 'alice', name: 'Alice' }, body: 'hello 0', clientMessageId: 'cid' },
        },
      },
    });
    expect(messageIds(eventsOf(client, 's'))).toEqual(sent.map((m) => m.id));
  });

  it('gives every subscriber every message exactly once, in history order, with concurrent senders', async () => {
    const app = await startTestApp(HIGH_RATE);
    const users = await Promise.all(['alice', 'bob', 'carol', 'dave'].map(user));
    const roomId = await createRoom(app.graphqlUrl, users[0]!.token);
    const subscribers: RawClient[] = [];
    for (const [index, u] of users.entries()) {
      const client = await connectAuthed(app.wsUrl, u.token);
      client.subscribe('s', ROOM_EVENTS, { roomId });
      await client.waitFor(
        (m) => m.type === 'next' && m.payload.data.roomEvents.__typename === 'MemberJoined' && m.payload.data.roomEvents.user.id === u.id,
      );
      subscribers.push(client);
      // A second subscription on the same socket is a subscriber of its own.
      if (index === 0) {
        client.subscribe('t', ROOM_EVENTS, { roomId });
        // Same user, so no second MemberJoined: it is live once presence counts it.
        await waitFor(async () => (await online(app.graphqlUrl, u.token, roomId))[0]?.connections === 2, 5_000, 'second subscription');
      }
    }
    await Promise.all(
      users.map(async (u) => {
        for (let i = 0; i < 15; i++) await send(app.graphqlUrl, u.token, roomId, `${u.id} ${i}`);
      }),
    );
    // Sent after all the others: once it is received, no late duplicate can still be on its way.
    const last = await send(app.graphqlUrl, users[0]!.token, roomId, 'last');
    const stored = (await history(app.graphqlUrl, users[0]!.token, roomId)).map((m) => m.id);
    expect(stored).toHaveLength(61);
    const streams: Array<[RawClient, string]> = [...subscribers.map((c): [RawClient, string] => [c, 's']), [subscribers[0]!, 't']];
    for (const [client, id] of streams) {
      await waitFor(() => messageIds(eventsOf(client, id)).includes(last.id), 5_000, `the last message on ${id}`);
      expect(messageIds(eventsOf(client, id))).toEqual(stored);
    }
  });

  it("keeps rooms apart: a subscriber sees only its own room's events", async () => {
    const app = await startTestApp(HIGH_RATE);
    const [alice, bob] = await Promise.all([user('alice'), user('bob')]);
    const roomA = await createRoom(app.graphqlUrl, alice.token);
    const roomB = await createRoom(app.graphqlUrl, alice.token);
    const client = await connectAuthed(app.wsUrl, bob.token);
    client.subscribe('a', ROOM_EVENTS, { roomId: roomA });
    client.subscribe('b', ROOM_EVENTS, { roomId: roomB });
    await Promise.all([client.waitForNexts('a', 1), client.waitForNexts('b', 1)]);
    const inA = await send(app.graphqlUrl, alice.token, roomA, 'in a');
    const inB = await send(app.graphqlUrl, alice.token, roomB, 'in b');
    await Promise.all([client.waitForNexts('a', 2), client.waitForNexts('b', 2)]);
    expect(messageIds(eventsOf(client, 'a'))).toEqual([inA.id]);
    expect(messageIds(eventsOf(client, 'b'))).toEqual([inB.id]);
    expect(eventsOf(client, 'a').every((e) => (e.roomId ?? e.message?.roomId) === roomA)).toBe(true);
  });

  it('answers NOT_FOUND for an unknown room', async () => {
    const app = await startTestApp();
    const alice = await user('alice');
    const client = await connectAuthed(app.wsUrl, alice.token);
    client.subscribe('s', ROOM_EVENTS, { roomId: 'r_nope' });
    expect(errorCodes(await operationErrors(client, 's'))).toEqual(['NOT_FOUND']);
    expect(client.socket.readyState).toBe(client.socket.OPEN);
  });
});

describe('roomEvents(after): replay then live', () => {
  it('replays every stored message newer than the cursor, then goes live', async () => {
    const app = await startTestApp(HIGH_RATE);
    const alice = await user('alice');
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    const sent = [];
    for (let i = 0; i < 10; i++) sent.push((await send(app.graphqlUrl, alice.token, roomId, `m${i}`)).id);
    const client = await connectAuthed(app.wsUrl, alice.token);
    client.subscribe('s', ROOM_EVENTS, { roomId, after: sent[3] });
    await waitFor(() => messageIds(eventsOf(client, 's')).length >= 6, 5_000, 'replay');
    const live = await send(app.graphqlUrl, alice.token, roomId, 'live');
    await waitFor(() => messageIds(eventsOf(client, 's')).length >= 7, 5_000, 'live message');
    expect(messageIds(eventsOf(client, 's'))).toEqual([...sent.slice(4), live.id]);
    expect(eventsOf(client, 's').map((e) => e.__typename)).toEqual([...Array(6).fill('MessageSent'), 'MemberJoined', 'MessageSent']);
  });

  it('replays nothing for a cursor at the newest message, and everything after the newest is live', async () => {
    const app = await startTestApp(HIGH_RATE);
    const alice = await user('alice');
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    const last = await send(app.graphqlUrl, alice.token, roomId, 'last');
    const client = await connectAuthed(app.wsUrl, alice.token);
    client.subscribe('s', ROOM_EVENTS, { roomId, after: last.id });
    await client.waitForNexts('s', 1);
    const next = await send(app.graphqlUrl, alice.token, roomId, 'next');
    await client.waitForNexts('s', 2);
    expect(eventsOf(client, 's').map((e) => e.__typename)).toEqual(['MemberJoined', 'MessageSent']);
    expect(messageIds(eventsOf(client, 's'))).toEqual([next.id]);
  });

  it('has no gap and no duplicate at the seam while other clients keep sending', async () => {
    const app = await startTestApp(HIGH_RATE);
    const [alice, bob, carol] = await Promise.all([user('alice'), user('bob'), user('carol')]);
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    let lastSentId: string | null = (await send(app.graphqlUrl, alice.token, roomId, 'seed')).id;

    let sending = true;
    const sender = async (token: string, tag: string) => {
      for (let i = 0; sending; i++) lastSentId = (await send(app.graphqlUrl, token, roomId, `${tag} ${i}`)).id;
    };
    const senders = Promise.all([sender(alice.token, 'alice'), sender(bob.token, 'bob')]);

    // Resubscribers join at different points of the stream, each from the newest id it had seen.
    const resumed: Array<{ client: RawClient; after: string }> = [];
    try {
      for (let i = 0; i < 6; i++) {
        const seen = await history(app.graphqlUrl, carol.token, roomId);
        await waitFor(async () => (await history(app.graphqlUrl, carol.token, roomId)).length >= seen.length + 5, 5_000, 'more messages');
        const after = i % 2 === 0 ? seen.at(-1)!.id : lastSentId!;
        const client = await connectAuthed(app.wsUrl, carol.token);
        client.subscribe('s', ROOM_EVENTS, { roomId, after });
        resumed.push({ client, after });
      }
      await waitFor(async () => (await history(app.graphqlUrl, carol.token, roomId)).length >= 150, 20_000, '150 messages');
    } finally {
      sending = false;
      await senders;
    }

    // A last message, once received, shows that nothing (no late duplicate either) is still on its way.
    const last = await send(app.graphqlUrl, carol.token, roomId, 'last');
    const stored = (await history(app.graphqlUrl, carol.token, roomId)).map((m) => m.id);
    expect(stored.at(-1)).toBe(last.id);
    for (const { client, after } of resumed) {
      const expected = stored.slice(stored.indexOf(after) + 1);
      expect(expected.length).toBeGreaterThan(1);
      await waitFor(() => messageIds(eventsOf(client, 's')).includes(last.id), 5_000, 'the last message').catch(() => {});
      expect(messageIds(eventsOf(client, 's'))).toEqual(expected);
    }
  });

  it('answers BAD_USER_INPUT for a cursor newer than the newest stored message instead of dropping live messages', async () => {
    // Such a cursor comes only from lost history or a forged id. Accepting it would make every live message with
    // an id up to the cursor vanish silently (CONTRACT: a message reaches every open subscription).
    const app = await startTestApp();
    const alice = await user('alice');
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    const sent = await send(app.graphqlUrl, alice.token, roomId, 'only message');
    const client = await connectAuthed(app.wsUrl, alice.token);
    client.subscribe('s', ROOM_EVENTS, { roomId, after: `${roomId}:000000000005` });
    expect(errorCodes(await operationErrors(client, 's'))).toEqual(['BAD_USER_INPUT']);
    // The newest id itself is a valid cursor.
    client.subscribe('t', ROOM_EVENTS, { roomId, after: sent.id });
    await client.waitForNexts('t', 1);
    const next = await send(app.graphqlUrl, alice.token, roomId, 'next');
    await waitFor(() => messageIds(eventsOf(client, 't')).length >= 1, 5_000, 'the live message');
    expect(messageIds(eventsOf(client, 't'))).toEqual([next.id]);
  });

  it('answers BAD_USER_INPUT for a cursor that is not a message id of the room', async () => {
    const app = await startTestApp();
    const alice = await user('alice');
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    const other = await createRoom(app.graphqlUrl, alice.token);
    const otherMessage = await send(app.graphqlUrl, alice.token, other, 'elsewhere');
    const client = await connectAuthed(app.wsUrl, alice.token);
    for (const [id, after] of [
      ['a', 'garbage'],
      ['b', otherMessage.id],
      ['c', `${roomId}:-1`],
    ] as const) {
      client.subscribe(id, ROOM_EVENTS, { roomId, after });
      expect(errorCodes(await operationErrors(client, id))).toEqual(['BAD_USER_INPUT']);
    }
    expect(client.socket.readyState).toBe(client.socket.OPEN);
    // Nobody was counted present by the refused subscriptions.
    expect(await online(app.graphqlUrl, alice.token, roomId)).toEqual([]);
  });
});

const REPLAYED = 2_500;
const MESSAGE_ID = /* GraphQL */ `
  subscription Ids($roomId: ID!, $after: ID) {
    roomEvents(roomId: $roomId, after: $after) {
      ...Ids
    }
  }
  fragment Ids on RoomEvent {
    __typename
    ... on MessageSent {
      message {
        id
      }
    }
  }
`;

/** Every stored message id of the room, oldest first, read back a page at a time (`messages` gives 500 at most). */
async function allIds(graphqlUrl: string, token: string, roomId: string): Promise<string[]> {
  const ids: string[] = [];
  for (let before: string | null = null; ;) {
    const response: GraphQLResponse<{ room: { messages: Array<{ id: string }> } }> = await gql(
      graphqlUrl,
      'query($id: ID!, $before: ID) { room(id: $id) { messages(last: 500, before: $before) { id } } }',
      { id: roomId, before },
      token,
    );
    const page: string[] = response.data!.room.messages.map((m) => m.id);
    if (page.length === 0) return ids;
    ids.unshift(...page);
    before = page[0]!;
  }
}

/**
 * Sends `count` messages over one socket, `lanes` in flight (thousands of HTTP requests would be the slow part),
 * or fewer if `more()` turns false; returns how many were sent.
 */
async function sendMany(client: RawClient, roomId: string, count: number, tag: string, lanes = 32, more = () => true): Promise<number> {
  const answers = new Map<string, (payload: { errors?: unknown }) => void>();
  client.socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { id?: string; type: string; payload?: { errors?: unknown } };
    if (message.type === 'next' && message.id) answers.get(message.id)?.(message.payload ?? {});
  });
  let next = 0;
  const lane = async () => {
    while (next < count && more()) {
      const id = `${tag}${next++}`;
      const answered = new Promise<{ errors?: unknown }>((resolve) => answers.set(id, resolve));
      client.subscribe(id, SEND_MESSAGE, { roomId, body: id });
      const { errors } = await within(answered, 10_000, `send ${id}`);
      answers.delete(id);
      if (errors) throw new Error(`send ${id} failed: ${JSON.stringify(errors)}`);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return next;
}

/** Message ids of operation `id` as they arrive, without the raw client's scans of everything received. */
function collectIds(client: RawClient, id: string): string[] {
  const ids: string[] = [];
  client.socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as {
      id?: string;
      type: string;
      payload?: { data?: { roomEvents?: { message?: { id: string } } } };
    };
    const messageId = message.id === id && message.type === 'next' ? message.payload?.data?.roomEvents?.message?.id : undefined;
    if (messageId) ids.push(messageId);
  });
  return ids;
}

describe('roomEvents(after): a long replay, page after page, while the room stays busy', () => {
  const redis = useRedis();
  for (const backend of ['memory', 'redis'] as const) {
    it(
      `${backend}: every message after the cursor once, in order, across pages and the seam, on every transport`,
      { timeout: 90_000 },
      async () => {
        const prefix = backend === 'redis' ? redis().newPrefix() : '';
        if (backend === 'redis') onTestFinished(() => redis().deleteKeys(prefix));
        const app = await startTestApp({
          ...HIGH_RATE,
          FRAME_RATE: '1000000',
          // Little headroom: nothing the replay needs is trimmed, and pages run up to the limit.
          HISTORY_LIMIT: String(REPLAYED + 600),
          ...(backend === 'redis' ? { REDIS_URL: redis().url, REDIS_PREFIX: prefix } : {}),
        });
        const [alice, bob, carol] = await Promise.all([user('alice'), user('bob'), user('carol')]);
        const roomId = await createRoom(app.graphqlUrl, alice.token);
        const cursor = (await send(app.graphqlUrl, alice.token, roomId, 'cursor')).id;
        await sendMany(await connectAuthed(app.wsUrl, alice.token), roomId, REPLAYED, 'h');

        // A second sender keeps the room busy from before the replays start until after they have caught up: the
        // seam falls wherever it falls (`test/unit/room-event-replay.test.ts` puts live messages mid-replay on purpose).
        const live = await connectAuthed(app.wsUrl, bob.token);
        let sending = true;
        let liveSent = 0;
        const liveSender = sendMany(live, roomId, 100_000, 'l', 1, () => {
          liveSent += 1;
          return sending;
        });
        // Each transport reads differently: the direct WebSocket path (piped), graphql-ws's own loop (a named
        // fragment keeps it off the direct path), and SSE (Yoga pulls as the response is read).
        const direct = await connectAuthed(app.wsUrl, carol.token);
        const directIds = collectIds(direct, 's');
        direct.subscribe('s', ROOM_EVENTS, { roomId, after: cursor });
        const looped = await connectAuthed(app.wsUrl, carol.token);
        const loopedIds = collectIds(looped, 's');
        looped.subscribe('s', MESSAGE_ID, { roomId, after: cursor });
        const sse = await subscribeSse(app.graphqlUrl, MESSAGE_ID, { roomId, after: cursor }, { token: carol.token });
        const sseIds = () =>
          sse.nexts().flatMap((p: { data?: { roomEvents?: { message?: { id: string } } } }) => p.data?.roomEvents?.message?.id ?? []);
        const readers = { direct: () => directIds, looped: () => loopedIds, sse: sseIds };
        try {
          await waitFor(
            () => Object.values(readers).every((ids) => ids().length >= REPLAYED + 20),
            60_000,
            'every replay to catch up',
          ).catch((error: Error) => {
            throw new Error(
              `${error.message}: ${Object.entries(readers)
                .map(([name, ids]) => `${name} ${ids().length}`)
                .join(', ')}`,
            );
          });
        } finally {
          sending = false;
          await liveSender;
        }
        const last = await send(app.graphqlUrl, alice.token, roomId, 'last');
        const stored = await allIds(app.graphqlUrl, alice.token, roomId);
        expect(stored.length).toBeGreaterThan(REPLAYED + 5 + 1);
        const expected = stored.slice(stored.indexOf(cursor) + 1);
        for (const [name, ids] of Object.entries(readers)) {
          await waitFor(() => ids().includes(last.id), 10_000, `the last message at ${name}`);
          expect(ids(), name).toEqual(expected);
        }
      },
    );
  }
});
