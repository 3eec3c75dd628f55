import { describe, expect, it } from 'vitest';
import { SEND_MESSAGE, createRoom, history } from '../utils/chat.ts';
import { openRawWebSocket, type RawWebSocket } from '../utils/raw-websocket.ts';
import { startTestApp, type TestApp } from '../utils/test-app.ts';
import { signTestToken } from '../utils/tokens.ts';
import { within } from '../utils/wait.ts';
import { token } from './helpers.ts';

const GRACE_MS = 1_500;

/** A peer that stores one message, so the path is proven, then waits for whatever makes the server close. */
async function peerInRoom(app: TestApp, roomId: string, jwt: string): Promise<RawWebSocket> {
  const peer = await openRawWebSocket(app.wsUrl);
  peer.sendJson({ type: 'connection_init', payload: { authorization: `Bearer ${jwt}` } });
  await peer.waitFor((m) => m.type === 'connection_ack');
  peer.sendJson({ id: 'before', type: 'subscribe', payload: { query: SEND_MESSAGE, variables: { roomId, body: 'before the close' } } });
  await peer.waitFor((m) => m.id === 'before' && m.type === 'next');
  return peer;
}

/**
 * After the close frame, the peer does not answer it and sends a `sendMessage` every 100 ms, for as long as the
 * server keeps the TCP connection (bounded: 6 s, far past the grace and past FRAME_RATE's one-second window).
 * Answers whether the server ended the connection by then.
 */
async function keepSendingAfterClose(peer: RawWebSocket, roomId: string): Promise<boolean> {
  const deadline = Date.now() + 6_000;
  for (let i = 0; !peer.isEnded() && Date.now() < deadline; i += 1) {
    peer.sendJson({
      id: `after-${i}`,
      type: 'subscribe',
      payload: { query: SEND_MESSAGE, variables: { roomId, body: `after the close ${i}` } },
    });
    await Promise.race([peer.ended, new Promise((resolve) => setTimeout(resolve, 100))]);
  }
  return peer.isEnded();
}

const CUT_OFF = 'the server ended the TCP connection of a peer that did not answer its close';

async function storedBodies(app: TestApp, roomId: string): Promise<string[]> {
  return (await history(app.graphqlUrl, await token('owner'), roomId)).map((m) => m.body);
}

describe('frames after the server closed the socket (pitfalls §23)', () => {
  it('4403 at token expiry: nothing sent afterwards is executed, and the silent peer is cut after the grace', async () => {
    const app = await startTestApp({ CLOSE_GRACE_MS: String(GRACE_MS), MESSAGE_RATE: '50' });
    const roomId = await createRoom(app.graphqlUrl, await token('owner'), { name: 'expiry' });
    const expiring = await signTestToken({ sub: 'mallory', name: 'mallory' }, { expiresIn: Math.floor(Date.now() / 1000) + 2 });
    const peer = await peerInRoom(app, roomId, expiring);

    expect(await within(peer.closeFrame, 5_000, 'the 4403 close frame')).toEqual({ code: 4403, reason: 'Token expired' });
    const ended = await keepSendingAfterClose(peer, roomId);
    expect(await storedBodies(app, roomId)).toEqual(['before the close']);
    expect(ended, CUT_OFF).toBe(true);
    expect(peer.messages.filter((m) => m.id?.startsWith('after-'))).toEqual([]);
  });

  it('1008 past FRAME_RATE: nothing sent afterwards is executed, and the silent peer is cut after the grace', async () => {
    const app = await startTestApp({ CLOSE_GRACE_MS: String(GRACE_MS), FRAME_RATE: '5', MESSAGE_RATE: '50' });
    const roomId = await createRoom(app.graphqlUrl, await token('owner'), { name: 'flood' });
    const peer = await peerInRoom(app, roomId, await token('mallory'));

    for (let i = 0; i < 6; i += 1) peer.sendJson({ type: 'ping' });
    expect(await within(peer.closeFrame, 5_000, 'the 1008 close frame')).toEqual({ code: 1008, reason: 'Frame rate exceeded' });
    const ended = await keepSendingAfterClose(peer, roomId);
    expect(await storedBodies(app, roomId)).toEqual(['before the close']);
    expect(ended, CUT_OFF).toBe(true);
  });
});
