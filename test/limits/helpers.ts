import { expect } from 'vitest';
import { createRoom as createRoomAs, send, sendHttp } from '../utils/chat.ts';
import type { TestApp } from '../utils/test-app.ts';
import { signTestToken } from '../utils/tokens.ts';
import { connectAuthed, type RawClient } from '../utils/ws-client.ts';

export const ROOM_EVENTS = `subscription Watch($roomId: ID!, $after: ID) {
  roomEvents(roomId: $roomId, after: $after) {
    __typename
    ... on MessageSent { message { id body author { id } } }
    ... on MemberJoined { user { id } }
    ... on MemberLeft { user { id } }
    ... on TypingChanged { user { id } typing }
  }
}`;

export const token = (sub: string, claims: Record<string, unknown> = {}) => signTestToken({ sub, name: sub, ...claims });

export async function createRoom(app: TestApp, owner: string, name = 'limits'): Promise<string> {
  return createRoomAs(app.graphqlUrl, await token(owner), { name });
}

export async function sendMessage(app: TestApp, sender: string, roomId: string, body: string) {
  return sendHttp(app.graphqlUrl, await token(sender), roomId, body);
}

export const eventsOf = (client: RawClient, id = 'room') => client.nexts(id).map((payload) => payload.data?.roomEvents);

/** A client subscribed to `roomId` as `userId`, returned once its own MemberJoined shows the stream is live. */
export async function watchRoom(app: TestApp, userId: string, roomId: string, id = 'room'): Promise<RawClient> {
  const client = await connectAuthed(app.wsUrl, await token(userId));
  client.subscribe(id, ROOM_EVENTS, { roomId });
  await client.waitFor((m) => m.id === id && m.type === 'next' && m.payload.data?.roomEvents?.user?.id === userId);
  return client;
}

export function messageBodies(client: RawClient, id = 'room'): string[] {
  return eventsOf(client, id)
    .filter((event) => event?.__typename === 'MessageSent')
    .map((event) => event.message.body as string);
}

/**
 * A well-behaved member of a room on its own socket: `proveAlive()` sends a fresh message (over HTTP) and waits
 * until this client has received it, so every abuse test can assert that the others were not touched.
 */
export async function startBystander(app: TestApp, roomId?: string) {
  const room = roomId ?? (await createRoom(app, 'bystander', 'bystander-room'));
  const client = await watchRoom(app, 'bystander', room, 'bystander');
  let proofs = 0;
  return {
    roomId: room,
    client,
    async proveAlive() {
      const body = `still here ${++proofs}`;
      await send(app.graphqlUrl, await token('bystander'), room, body);
      await client.waitFor((m) => m.id === 'bystander' && m.type === 'next' && m.payload.data?.roomEvents?.message?.body === body);
      expect(client.socket.readyState).toBe(client.socket.OPEN);
    },
  };
}

/** One raw HTTP upgrade; resolves with the status line's code (101 when it switched). */
export function upgradeStatus(app: TestApp, headers: Record<string, string> = {}, localAddress?: string): Promise<number> {
  return import('node:http').then(
    ({ request }) =>
      new Promise<number>((resolve, reject) => {
        const req = request({
          host: '127.0.0.1',
          port: app.port,
          path: '/graphql',
          ...(localAddress ? { localAddress } : {}),
          headers: {
            connection: 'Upgrade',
            upgrade: 'websocket',
            'sec-websocket-version': '13',
            'sec-websocket-key': Buffer.from('0123456789abcdef').toString('base64'),
            'sec-websocket-protocol': 'graphql-transport-ws',
            ...headers,
          },
          timeout: 5_000,
        });
        req.once('upgrade', (response, socket) => {
          socket.destroy();
          resolve(response.statusCode ?? 0);
        });
        req.once('response', (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        req.once('timeout', () => req.destroy(new Error('upgrade timed out')));
        req.once('error', reject);
        req.end();
      }),
  );
}
