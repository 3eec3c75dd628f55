import { describe, expect, it } from 'vitest';
import { CREATE_ROOM, SET_TYPING } from '../utils/chat.ts';
import { errorCodes, gql } from '../utils/http-client.ts';
import { startTestApp } from '../utils/test-app.ts';
import { within } from '../utils/wait.ts';
import { connectAuthed } from '../utils/ws-client.ts';
import { ROOM_EVENTS, createRoom, startBystander, token } from './helpers.ts';

const SEND = 'mutation($roomId: ID!, $body: String!) { sendMessage(roomId: $roomId, body: $body) { id body } }';

describe('rates', () => {
  it('MESSAGE_RATE counts one user across their sockets: RATE_LIMITED, nothing stored, sockets open', async () => {
    const app = await startTestApp({ MESSAGE_RATE: '1', MESSAGE_BURST: '2' });
    const roomId = await createRoom(app, 'alice');
    const bystander = await startBystander(app, roomId);
    const [first, second] = [await connectAuthed(app.wsUrl, await token('alice')), await connectAuthed(app.wsUrl, await token('alice'))];

    // Six sends at once, alternating sockets: the bucket holds two, so refill cannot cover the rest.
    const ids = ['s0', 's1', 's2', 's3', 's4', 's5'];
    ids.forEach((id, i) => (i % 2 ? second : first).subscribe(id, SEND, { roomId, body: `burst ${i}` }));
    const results = await Promise.all(ids.map(async (id, i) => (await (i % 2 ? second : first).waitForNexts(id, 1))[0]));
    const accepted = results.filter((r) => r.data?.sendMessage).map((r) => r.data.sendMessage.body as string);
    const limited = results.filter((r) => r.errors?.[0]?.extensions?.code === 'RATE_LIMITED');
    expect(limited.length).toBeGreaterThan(0);
    expect(accepted.length + limited.length).toBe(ids.length);
    // Both of alice's sockets took part in the one budget.
    expect(accepted.length).toBeLessThan(ids.length - 1);

    const history = await gql<{ room: { messages: Array<{ body: string }> } }>(
      app.graphqlUrl,
      'query($id: ID!) { room(id: $id) { messages(last: 50) { body } } }',
      { id: roomId },
      await token('alice'),
    );
    expect(
      history
        .data!.room.messages.map((m) => m.body)
        .filter((b) => b.startsWith('burst'))
        .sort(),
    ).toEqual([...accepted].sort());
    expect(first.socket.readyState).toBe(first.socket.OPEN);
    expect(second.socket.readyState).toBe(second.socket.OPEN);
    // Another user's budget is untouched.
    await bystander.proveAlive();
  });

  it('FRAME_RATE closes the flooding socket with 1008; another client keeps receiving meanwhile', async () => {
    const app = await startTestApp({ FRAME_RATE: '20' });
    const bystander = await startBystander(app);
    const flooder = await connectAuthed(app.wsUrl, await token('mallory'));
    for (let i = 0; i < 200; i += 1) flooder.send({ type: 'ping' });
    const closed = await within(flooder.closed, 5_000, '1008');
    expect(closed.code).toBe(1008);
    expect(closed.reason).toBe('Frame rate exceeded');
    await bystander.proveAlive();

    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/^chat_ws_frame_rate_closes_total 1$/m);
  });

  it('FRAME_RATE counts WebSocket control pings too', async () => {
    const app = await startTestApp({ FRAME_RATE: '20' });
    const bystander = await startBystander(app);
    const flooder = await connectAuthed(app.wsUrl, await token('mallory'));
    for (let i = 0; i < 200; i += 1) flooder.socket.ping();
    expect((await within(flooder.closed, 5_000, '1008')).code).toBe(1008);
    await bystander.proveAlive();
  });

  it('MAX_SUBSCRIPTIONS_PER_CONNECTION: the extra subscribe gets an error, the others go on', async () => {
    const app = await startTestApp({ MAX_SUBSCRIPTIONS_PER_CONNECTION: '2' });
    const roomId = await createRoom(app, 'alice');
    const bystander = await startBystander(app, roomId);
    const client = await connectAuthed(app.wsUrl, await token('alice'));
    client.subscribe('a', ROOM_EVENTS, { roomId });
    await client.waitForNexts('a', 1);
    client.subscribe('b', ROOM_EVENTS, { roomId });
    client.subscribe('c', ROOM_EVENTS, { roomId });
    const refused = await client.waitFor((m) => m.id === 'c' && m.type === 'error');
    expect(refused.payload).toEqual([expect.objectContaining({ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } })]);

    await bystander.proveAlive();
    const body = 'after the refusal';
    const sent = await gql(app.graphqlUrl, SEND, { roomId, body }, await token('bob'));
    expect(sent.errors).toBeUndefined();
    for (const id of ['a', 'b']) {
      await client.waitFor((m) => m.id === id && m.payload?.data?.roomEvents?.message?.body === body);
    }
    expect(client.socket.readyState).toBe(client.socket.OPEN);

    // A slot freed by complete is usable again.
    client.complete('b');
    client.subscribe('d', '{ me { id } }');
    expect((await client.waitForNexts('d', 1))[0]).toEqual({ data: { me: { id: 'alice' } } });
  });

  it('ROOM_RATE (per user per minute): createRoom past it gets RATE_LIMITED and stores nothing; others unaffected', async () => {
    const app = await startTestApp({ ROOM_RATE: '3' });
    const [alice, bob] = [await token('alice'), await token('bob')];
    const outcomes: string[] = [];
    for (let n = 0; n < 6; n++) {
      const response = await gql<{ createRoom: { id: string } }>(app.graphqlUrl, CREATE_ROOM, { name: `r${n}`, private: true }, alice);
      outcomes.push(response.data?.createRoom ? 'created' : String(errorCodes(response)));
    }
    // 3 a minute: the bucket holds 3, and one more token takes 20 s to come.
    expect(outcomes).toEqual(['created', 'created', 'created', 'RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED']);
    const listed = await gql<{ rooms: Array<{ name: string }> }>(app.graphqlUrl, '{ rooms(first: 500) { name } }', {}, alice);
    expect(listed.data!.rooms.map((r) => r.name)).toEqual(['r2', 'r1', 'r0']);
    expect(errorCodes(await gql(app.graphqlUrl, CREATE_ROOM, { name: 'bob' }, bob))).toEqual([]);
  });

  it('TYPING_RATE (per user per second): setTyping past it gets RATE_LIMITED; the socket stays open', async () => {
    const app = await startTestApp({ TYPING_RATE: '2' });
    const roomId = await createRoom(app, 'alice');
    const bystander = await startBystander(app, roomId);
    const typist = await connectAuthed(app.wsUrl, await token('alice'));
    const ids = Array.from({ length: 8 }, (_, n) => `t${n}`);
    ids.forEach((id, n) => typist.subscribe(id, SET_TYPING, { roomId, typing: n % 2 === 0 }));
    const results = await Promise.all(ids.map(async (id) => (await typist.waitForNexts(id, 1))[0]));
    const accepted = results.filter((r) => r.data?.setTyping === true).length;
    const limited = results.filter((r) => r.errors?.[0]?.extensions?.code === 'RATE_LIMITED').length;
    expect(accepted + limited).toBe(ids.length);
    // A bucket of 2 refilled at 2 a second: eight calls at once cannot all pass, whatever the machine's speed.
    expect(accepted).toBeGreaterThanOrEqual(2);
    expect(limited).toBeGreaterThanOrEqual(4);
    expect(typist.socket.readyState).toBe(typist.socket.OPEN);
    await bystander.proveAlive();
  });
});
