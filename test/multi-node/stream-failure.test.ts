import { describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { ROOM_EVENTS, createRoom, eventsOf, messageIds, send, user } from '../utils/chat.ts';
import { startRedisServer } from '../utils/redis-server.ts';
import { startTestApp } from '../utils/test-app.ts';
import { waitFor } from '../utils/wait.ts';
import { connectAuthed } from '../utils/ws-client.ts';

describe('a room stream that fails mid-subscription', () => {
  it('ends the WebSocket operation with an UNAVAILABLE `error`, keeps the socket, and a resume with `after` loses nothing', async () => {
    const redis = await startRedisServer();
    onTestFinished(() => redis.stop());
    const prefix = redis.newPrefix();
    onTestFinished(() => redis.deleteKeys(prefix));
    const app = await startTestApp({ REDIS_URL: redis.url, REDIS_PREFIX: prefix });
    const alice = await user('alice');
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    const client = await connectAuthed(app.wsUrl, alice.token);
    client.subscribe('s', ROOM_EVENTS, { roomId });
    await client.waitForNexts('s', 1);
    const before = await send(app.graphqlUrl, alice.token, roomId, 'before the fault');
    await waitFor(() => messageIds(eventsOf(client, 's')).includes(before.id), 5_000, 'the first message');

    // History reads refused (pub/sub and writes still work), then a message ahead of history on the room channel:
    // the room hub cannot fill the gap, and after its retries it ends the room's streams.
    await redis.command('ACL', 'SETUSER', 'default', '-zrangebyscore');
    const ahead = JSON.stringify({
      kind: 'message',
      roomId,
      message: {
        seq: 1_000,
        author: { id: 'mallory', name: 'Mallory' },
        body: 'ahead',
        sentAt: new Date().toISOString(),
        clientMessageId: null,
      },
    });
    expect(Number(await redis.command('PUBLISH', `${prefix}room-events:${roomId}`, ahead))).toBe(1);
    const failed = await client.waitFor((m) => m.id === 's' && m.type === 'error', 15_000);
    expect(failed.payload).toEqual([expect.objectContaining({ extensions: { code: 'UNAVAILABLE' } })]);
    expect(client.socket.readyState).toBe(WebSocket.OPEN);

    await redis.command('ACL', 'SETUSER', 'default', '+@all');
    const during = await send(app.graphqlUrl, alice.token, roomId, 'while the stream was down');
    client.subscribe('s', ROOM_EVENTS, { roomId, after: before.id });
    await waitFor(() => messageIds(eventsOf(client, 's')).includes(during.id), 5_000, 'the resume');
    const after = await send(app.graphqlUrl, alice.token, roomId, 'after the resume');
    await waitFor(() => messageIds(eventsOf(client, 's')).includes(after.id), 5_000, 'a live message after the resume');
    expect(messageIds(eventsOf(client, 's'))).toEqual([before.id, during.id, after.id]);
    expect(eventsOf(client, 's').some((e) => e.message?.body === 'ahead')).toBe(false);
  });
});
