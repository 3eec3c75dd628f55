import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ROOM_EVENTS, createRoom, user, watchedRoom } from '../utils/chat.ts';
import { startTestApp } from '../utils/test-app.ts';
import { within } from '../utils/wait.ts';
import { connectAuthed, connectRaw } from '../utils/ws-client.ts';

/** A fresh app with alice's socket acknowledged. */
async function aliceConnected() {
  const app = await startTestApp();
  const alice = await user('alice');
  return { alice, client: await connectAuthed(app.wsUrl, alice.token) };
}

describe('graphql-transport-ws protocol errors', () => {
  it('answers a syntax error with an `error` message for that operation and keeps the socket open', async () => {
    const { client } = await aliceConnected();
    client.subscribe('bad', '{ me { id ');
    const error = await client.waitFor((m) => m.id === 'bad');
    expect(error.type).toBe('error');
    expect(error.payload).toHaveLength(1);
    expect(error.payload[0].message).toMatch(/^Syntax Error/);

    client.subscribe('good', '{ me { id } }');
    expect((await client.waitForNexts('good', 1))[0]).toEqual({ data: { me: { id: 'alice' } } });
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('answers a validation error with an `error` message for that operation and keeps the socket open', async () => {
    const { client } = await aliceConnected();
    client.subscribe('bad', '{ me { id favouriteColour } }');
    const error = await client.waitFor((m) => m.id === 'bad');
    expect(error.type).toBe('error');
    expect(error.payload[0].message).toContain('favouriteColour');

    // A subscription with a missing required variable is a validation error too.
    client.subscribe('bad-vars', ROOM_EVENTS, {});
    const varsError = await client.waitFor((m) => m.id === 'bad-vars' && (m.type === 'error' || m.type === 'next'));
    expect(varsError.type === 'error' ? varsError.payload[0].message : varsError.payload.errors[0].message).toContain('roomId');

    client.subscribe('good', '{ me { id } }');
    expect((await client.waitForNexts('good', 1))[0]).toEqual({ data: { me: { id: 'alice' } } });
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('closes 4409 on a second subscribe with an id already in use', async () => {
    const { roomId, observer: client } = await watchedRoom();
    client.subscribe('s', ROOM_EVENTS, { roomId });
    expect((await within(client.closed)).code).toBe(4409);
  });

  // graphql-ws's reason is `Subscriber for <id> already exists`: past 123 bytes a close frame cannot hold it (pitfalls §24).
  it.each([
    ['500 ASCII characters', 'x'.repeat(500)],
    ['multi-byte characters (2, 3 and 4 bytes)', 'é€😀'.repeat(60)],
  ])('closes 4409 (not 4500) on a duplicate id of %s, with the reason clipped to a whole character', async (_case, id) => {
    const app = await startTestApp();
    const alice = await user('alice');
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    const client = await connectAuthed(app.wsUrl, alice.token);
    client.subscribe(id, ROOM_EVENTS, { roomId });
    await client.waitForNexts(id, 1);
    client.subscribe(id, ROOM_EVENTS, { roomId });
    const { code, reason } = await within(client.closed);
    expect(code).toBe(4409);
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
    expect(reason).toMatch(/^Subscriber for (x|é|€|😀)+…$/u);
    expect(reason).not.toContain('\uFFFD');
  });

  it('closes 4401 on a subscribe before connection_ack', async () => {
    const app = await startTestApp();
    const client = await connectRaw(app.wsUrl);
    client.subscribe('s', '{ me { id } }');
    expect((await within(client.closed)).code).toBe(4401);
    expect(client.received).toEqual([]);
  });

  it('closes 4429 on a second connection_init', async () => {
    const { client, alice } = await aliceConnected();
    client.send({ type: 'connection_init', payload: { authorization: `Bearer ${alice.token}` } });
    expect((await within(client.closed)).code).toBe(4429);
  });

  it('closes 4400 on a frame that is not JSON', async () => {
    const { client } = await aliceConnected();
    client.send('{ this is not json');
    expect((await within(client.closed)).code).toBe(4400);
  });

  it('closes 4400 on a message that is not a graphql-ws message', async () => {
    const { client } = await aliceConnected();
    client.send({ type: 'start', id: '1', payload: { query: '{ me { id } }' } });
    expect((await within(client.closed)).code).toBe(4400);
  });

  it('closes 4400 (not 4500) when the client sends a server-only `next` message', async () => {
    const { client } = await aliceConnected();
    client.send({ id: 'x', type: 'next', payload: { data: {} } });
    expect((await within(client.closed)).code).toBe(4400);
  });

  it('closes 4400 when the client sends a server-only `connection_ack`', async () => {
    const { client } = await aliceConnected();
    client.send({ type: 'connection_ack' });
    expect((await within(client.closed)).code).toBe(4400);
  });

  it('refuses a socket that does not speak graphql-transport-ws (4406 or no protocol agreed)', async () => {
    const app = await startTestApp();
    const outcome = await connectRaw(app.wsUrl, { protocol: 'graphql-ws' }).then(
      async (client) => ({ closedWith: (await within(client.closed)).code }),
      (error: Error) => ({ refused: error.message }),
    );
    if ('closedWith' in outcome) expect(outcome.closedWith).toBe(4406);
    else expect(outcome.refused).toMatch(/subprotocol|upgrade refused/i);
  });

  it('ignores a `complete` for an operation id that is not running', async () => {
    const { client } = await aliceConnected();
    client.complete('never-started');
    client.subscribe('q', '{ me { id } }');
    expect((await client.waitForNexts('q', 1))[0]).toEqual({ data: { me: { id: 'alice' } } });
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('answers a ping with a pong and keeps going', async () => {
    const { client } = await aliceConnected();
    client.send({ type: 'ping', payload: { n: 1 } });
    expect(await client.waitFor((m) => m.type === 'pong')).toMatchObject({ type: 'pong' });
    client.subscribe('q', '{ me { id } }');
    await client.waitForNexts('q', 1);
  });
});
