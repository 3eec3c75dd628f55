import { describe, expect, it } from 'vitest';
import { CREATE_ROOM, ROOM_EVENTS, SET_TYPING, createRoom, eventsOf, history, messageIds, send, sendHttp, user } from '../utils/chat.ts';
import { errorCodes, gql, type GraphQLResponse } from '../utils/http-client.ts';
import { subscribeSse } from '../utils/sse-client.ts';
import { startTestApp } from '../utils/test-app.ts';
import { within } from '../utils/wait.ts';
import { connectAuthed } from '../utils/ws-client.ts';

const ROOM = 'query($id: ID!) { room(id: $id) { id name private messages { body } online { user { id } } } }';

async function privateRoomSetup() {
  const app = await startTestApp();
  const [alice, bob, mallory] = await Promise.all([user('alice'), user('bob'), user('mallory')]);
  // alice creates it, bob is a member, mallory is not.
  const roomId = await createRoom(app.graphqlUrl, alice.token, { name: 'secret', private: true, members: ['bob'] });
  await send(app.graphqlUrl, alice.token, roomId, 'for members only');
  return { app, alice, bob, mallory, roomId };
}

describe('private rooms', () => {
  it('answers FORBIDDEN to a non-member reading room(id), and the room to its creator and members', async () => {
    const { app, alice, bob, mallory, roomId } = await privateRoomSetup();
    const refused = await gql(app.graphqlUrl, ROOM, { id: roomId }, mallory.token);
    expect(errorCodes(refused)).toEqual(['FORBIDDEN']);
    expect(JSON.stringify(refused)).not.toContain('for members only');
    for (const member of [alice, bob]) {
      const response = await gql<{ room: { name: string; messages: Array<{ body: string }> } }>(
        app.graphqlUrl,
        ROOM,
        { id: roomId },
        member.token,
      );
      expect(response.errors).toBeUndefined();
      expect(response.data!.room).toMatchObject({ name: 'secret', private: true, messages: [{ body: 'for members only' }] });
    }
  });

  it('answers FORBIDDEN to a non-member subscribing over WebSocket; members receive the events', async () => {
    const { app, alice, bob, mallory, roomId } = await privateRoomSetup();
    const intruder = await connectAuthed(app.wsUrl, mallory.token);
    intruder.subscribe('s', ROOM_EVENTS, { roomId });
    const end = await intruder.waitFor((m) => m.id === 's' && (m.type === 'error' || m.type === 'complete'));
    const result = (end.type === 'error' ? { errors: end.payload } : intruder.nexts('s')[0]) as GraphQLResponse;
    expect(errorCodes(result)).toEqual(['FORBIDDEN']);
    expect(intruder.socket.readyState).toBe(intruder.socket.OPEN);

    const member = await connectAuthed(app.wsUrl, bob.token);
    member.subscribe('s', ROOM_EVENTS, { roomId });
    await member.waitForNexts('s', 1);
    const creator = await connectAuthed(app.wsUrl, alice.token);
    creator.subscribe('s', ROOM_EVENTS, { roomId });
    await creator.waitForNexts('s', 1);
    const sent = await send(app.graphqlUrl, bob.token, roomId, 'hi alice');
    for (const client of [member, creator]) {
      await client.waitFor((m) => m.id === 's' && m.type === 'next' && m.payload.data.roomEvents.message?.id === sent.id);
      expect(messageIds(eventsOf(client, 's'))).toEqual([sent.id]);
    }
    // Nothing of the room reached the refused subscriber.
    expect(intruder.nexts('s').every((payload: GraphQLResponse) => !payload.data)).toBe(true);
  });

  it('answers FORBIDDEN to a non-member subscribing over SSE', async () => {
    const { app, bob, mallory, roomId } = await privateRoomSetup();
    const intruder = await subscribeSse(app.graphqlUrl, ROOM_EVENTS, { roomId }, { token: mallory.token });
    await within(intruder.ended, 5_000, 'the refused stream to end');
    expect(errorCodes(intruder.nexts()[0] as GraphQLResponse)).toEqual(['FORBIDDEN']);

    const member = await subscribeSse(app.graphqlUrl, ROOM_EVENTS, { roomId }, { token: bob.token });
    expect((await member.waitForNexts(1))[0].data.roomEvents).toMatchObject({ __typename: 'MemberJoined', user: { id: 'bob' } });
  });

  it('answers FORBIDDEN to a non-member sending a message or setting typing, and stores nothing', async () => {
    const { app, alice, bob, mallory, roomId } = await privateRoomSetup();
    const watcher = await connectAuthed(app.wsUrl, alice.token);
    watcher.subscribe('s', ROOM_EVENTS, { roomId });
    await watcher.waitForNexts('s', 1);

    expect(errorCodes(await sendHttp(app.graphqlUrl, mallory.token, roomId, 'let me in'))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await sendHttp(app.graphqlUrl, mallory.token, roomId, 'let me in', 'retry-key'))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await gql(app.graphqlUrl, SET_TYPING, { roomId, typing: true }, mallory.token))).toEqual(['FORBIDDEN']);

    // The member's typing and message are the only events the watcher sees.
    expect(await gql(app.graphqlUrl, SET_TYPING, { roomId, typing: true }, bob.token)).toEqual({ data: { setTyping: true } });
    const fromBob = await send(app.graphqlUrl, bob.token, roomId, 'member here');
    await watcher.waitForNexts('s', 4);
    const seen = eventsOf(watcher, 's').map((e) => `${e.__typename}:${e.user?.id ?? e.message?.author.id}:${e.typing ?? ''}`);
    expect(seen.slice(0, 2)).toEqual(['MemberJoined:alice:', 'TypingChanged:bob:true']);
    // The message ends bob's typing; which of the two frames comes first is not part of the contract.
    expect(seen.slice(2).sort()).toEqual(['MessageSent:bob:', 'TypingChanged:bob:false']);
    expect((await history(app.graphqlUrl, alice.token, roomId)).map((m) => m.body)).toEqual(['for members only', 'member here']);
  });

  it("bounds a private room's member list: 1000 ids (creator included), each 1..128 characters, else BAD_USER_INPUT and nothing stored", async () => {
    const app = await startTestApp({ ROOM_RATE: '1000' });
    const alice = await user('alice');
    const ids = (count: number, tag: string) => Array.from({ length: count }, (_, n) => `${tag}${n}`);
    const create = (members: string[]) =>
      gql<{ createRoom: { id: string } }>(app.graphqlUrl, CREATE_ROOM, { name: 'big', private: true, members }, alice.token);
    const rooms = async () =>
      (await gql<{ rooms: Array<{ id: string }> }>(app.graphqlUrl, '{ rooms(first: 500) { id } }', {}, alice.token)).data!.rooms.length;

    const refused = [
      ids(1_001, 'u'), // too many ids
      ids(1_000, 'u'), // 1,000 others plus the creator
      ['bob', 'x'.repeat(129)], // an id past 128 characters
      ['bob', ''], // an empty id
    ];
    for (const members of refused) expect(errorCodes(await create(members))).toEqual(['BAD_USER_INPUT']);
    expect(await rooms()).toBe(0);

    // At the limits: 999 others and the creator, duplicates dropped (the creator listed too), ids of exactly 128
    // characters (code points: 128 emoji are 256 UTF-16 units).
    const accepted = [...ids(997, 'u'), 'x'.repeat(128), '🎉'.repeat(128), 'alice', 'u1', 'u2'];
    const created = await create(accepted);
    expect(created.errors).toBeUndefined();
    expect(await rooms()).toBe(1);
    const member = await user('u996');
    const seen = await gql(app.graphqlUrl, ROOM, { id: created.data!.createRoom.id }, member.token);
    expect(seen.errors).toBeUndefined();
  });

  it("pages rooms newest first (first 0..500, after = an id of the previous page), never showing or accepting others' private rooms", async () => {
    const app = await startTestApp({ ROOM_RATE: '1000' });
    const [alice, bob, mallory] = await Promise.all([user('alice'), user('bob'), user('mallory')]);
    const visibleToBob: string[] = [];
    let hidden = '';
    for (let n = 0; n < 9; n++) {
      if (n % 3 === 2) {
        hidden = await createRoom(app.graphqlUrl, mallory.token, { name: `hidden${n}`, private: true });
      } else {
        const priv = n % 3 === 1;
        visibleToBob.unshift(await createRoom(app.graphqlUrl, alice.token, { name: `r${n}`, private: priv, members: priv ? ['bob'] : [] }));
      }
    }
    const page = (variables: Record<string, unknown>, token = bob.token) =>
      gql<{ rooms: Array<{ id: string }> }>(
        app.graphqlUrl,
        'query($first: Int, $after: ID) { rooms(first: $first, after: $after) { id } }',
        variables,
        token,
      );

    const seen: string[] = [];
    let after: string | null = null;
    for (let guard = 0; guard < 10; guard++) {
      const response = await page({ first: 4, after });
      expect(response.errors).toBeUndefined();
      const got = response.data!.rooms.map((r) => r.id);
      if (got.length === 0) break;
      seen.push(...got);
      after = got.at(-1)!;
    }
    expect(seen).toEqual(visibleToBob);
    expect((await page({})).data!.rooms.map((r) => r.id)).toEqual(visibleToBob); // default first: 100
    expect((await page({ first: null })).data!.rooms.map((r) => r.id)).toEqual(visibleToBob);
    expect((await page({ first: 0 })).data!.rooms).toEqual([]);
    expect((await page({ first: 500 })).errors).toBeUndefined();
    for (const variables of [{ first: 501 }, { first: -1 }, { first: 2, after: hidden }, { first: 2, after: 'r_unknown' }]) {
      expect(errorCodes(await page(variables)), JSON.stringify(variables)).toEqual(['BAD_USER_INPUT']);
    }
    // The hidden room is a cursor for its owner.
    expect(errorCodes(await page({ first: 2, after: hidden }, mallory.token))).toEqual([]);
  });
});
