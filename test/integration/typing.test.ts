import { describe, expect, it } from 'vitest';
import { SET_TYPING, eventsOf, send, watchedRoom } from '../utils/chat.ts';
import { gql } from '../utils/http-client.ts';
import type { TestApp } from '../utils/test-app.ts';
import { connectAuthed, type RawClient } from '../utils/ws-client.ts';

async function typingRoom(env: Record<string, string> = {}) {
  const room = await watchedRoom(env);
  const setTyping = async (typing: boolean) =>
    expect(await gql(room.app.graphqlUrl, SET_TYPING, { roomId: room.roomId, typing }, room.bob.token)).toEqual({
      data: { setTyping: true },
    });
  return { ...room, setTyping };
}

const typingOf = (observer: RawClient) =>
  eventsOf(observer, 's')
    .filter((e) => e.__typename === 'TypingChanged')
    .map((e) => `${e.user!.id}:${e.typing}`);

/** A message sent now reaching the observer proves every earlier event has arrived (the room stream is ordered). */
async function flush(app: TestApp, token: string, roomId: string, observer: RawClient) {
  const marker = await send(app.graphqlUrl, token, roomId, 'marker');
  await observer.waitFor((m) => m.id === 's' && m.type === 'next' && m.payload.data.roomEvents.message?.id === marker.id);
}

describe('typing indicators', () => {
  it('announces setTyping(true) to others with the exact payload, and setTyping(false) ends it', async () => {
    const { app, alice, roomId, observer, setTyping } = await typingRoom();
    await setTyping(true);
    await observer.waitForNexts('s', 2);
    expect(eventsOf(observer, 's')[1]).toEqual({ __typename: 'TypingChanged', roomId, user: { id: 'bob', name: 'Bob' }, typing: true });
    await setTyping(false);
    await observer.waitForNexts('s', 3);
    expect(eventsOf(observer, 's')[2]).toEqual({ __typename: 'TypingChanged', roomId, user: { id: 'bob', name: 'Bob' }, typing: false });
    // setTyping(false) when not typing announces nothing.
    await setTyping(false);
    await flush(app, alice.token, roomId, observer);
    expect(typingOf(observer)).toEqual(['bob:true', 'bob:false']);
  });

  it('does not re-announce a renewal', async () => {
    // The default TTL (seconds) leaves room for the renewals to arrive before any expiry.
    const { app, alice, roomId, observer, setTyping } = await typingRoom();
    await setTyping(true);
    await setTyping(true);
    await setTyping(true);
    await setTyping(false);
    await flush(app, alice.token, roomId, observer);
    expect(typingOf(observer)).toEqual(['bob:true', 'bob:false']);
  });

  it('expires without renewal: TypingChanged typing:false after TYPING_TTL_MS', async () => {
    const { app, alice, roomId, observer, setTyping } = await typingRoom({ TYPING_TTL_MS: '200' });
    await setTyping(true);
    await observer.waitFor((m) => m.id === 's' && m.payload?.data.roomEvents.typing === false);
    await flush(app, alice.token, roomId, observer);
    expect(typingOf(observer)).toEqual(['bob:true', 'bob:false']);
    // Typing again after an expiry is announced again.
    await setTyping(true);
    await observer.waitFor((m) => m.id === 's' && typingOf(observer).length === 3);
    expect(typingOf(observer)).toEqual(['bob:true', 'bob:false', 'bob:true']);
  });

  it('ends typing when the user sends a message', async () => {
    const { bob, roomId, observer, setTyping, app } = await typingRoom();
    await setTyping(true);
    await observer.waitForNexts('s', 2);
    const message = await send(app.graphqlUrl, bob.token, roomId, 'done typing');
    await observer.waitForNexts('s', 4);
    const last = eventsOf(observer, 's').slice(2);
    expect(last).toContainEqual({ __typename: 'TypingChanged', roomId, user: { id: 'bob', name: 'Bob' }, typing: false });
    expect(last.find((e) => e.__typename === 'MessageSent')?.message?.id).toBe(message.id);
  });

  it('sends typing events over the socket as a mutation too, and NOT_FOUND for an unknown room', async () => {
    const { app, bob, roomId, observer } = await typingRoom();
    const client = await connectAuthed(app.wsUrl, bob.token);
    client.subscribe('t', SET_TYPING, { roomId, typing: true });
    expect((await client.waitForNexts('t', 1))[0]).toEqual({ data: { setTyping: true } });
    await observer.waitFor((m) => m.id === 's' && m.payload?.data.roomEvents.typing === true);

    client.subscribe('u', SET_TYPING, { roomId: 'r_nope', typing: true });
    const [refused] = await client.waitForNexts('u', 1);
    expect(refused.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(['NOT_FOUND']);
  });
});
