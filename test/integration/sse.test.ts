import { describe, expect, it } from 'vitest';
import {
  ROOM_EVENTS,
  createRoom,
  eventsOf,
  online,
  send,
  user,
  watchedRoom,
  type RoomEventPayload,
  type SentMessage,
} from '../utils/chat.ts';
import { mayAnswerWithEventStream } from '../../src/http/event-streams.ts';
import { startTestApp } from '../utils/test-app.ts';
import { subscribeSse, type SseSubscription } from '../utils/sse-client.ts';
import { signTestToken } from '../utils/tokens.ts';
import { waitFor, within } from '../utils/wait.ts';

const roomEventsOf = (subscription: SseSubscription): RoomEventPayload[] =>
  subscription.nexts().map((payload: { data: { roomEvents: RoomEventPayload } }) => payload.data.roomEvents);

describe('roomEvents over SSE (Yoga, same /graphql path)', () => {
  it.each(['POST', 'GET'] as const)('streams events to a %s text/event-stream request with a Bearer token', async (method) => {
    const app = await startTestApp();
    const [alice, bob] = await Promise.all([user('alice'), user('bob')]);
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    const sse = await subscribeSse(app.graphqlUrl, ROOM_EVENTS, { roomId }, { token: bob.token, method });
    expect(sse.status).toBe(200);
    expect(sse.contentType).toMatch(/^text\/event-stream/);
    await sse.waitForNexts(1);

    const first = await send(app.graphqlUrl, alice.token, roomId, 'one');
    const second = await send(app.graphqlUrl, alice.token, roomId, 'two');
    await sse.waitForNexts(3);
    const asSelected = ({ sentAt: _sentAt, ...message }: SentMessage) => message;
    expect(roomEventsOf(sse)).toEqual([
      { __typename: 'MemberJoined', roomId, user: { id: 'bob', name: 'Bob' } },
      { __typename: 'MessageSent', message: asSelected(first) },
      { __typename: 'MessageSent', message: asSelected(second) },
    ]);
  });

  it('replays with `after` over SSE too', async () => {
    const app = await startTestApp();
    const alice = await user('alice');
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    const old = await send(app.graphqlUrl, alice.token, roomId, 'old');
    const newer = await send(app.graphqlUrl, alice.token, roomId, 'newer');
    const sse = await subscribeSse(app.graphqlUrl, ROOM_EVENTS, { roomId, after: old.id }, { token: alice.token });
    await sse.waitForNexts(2);
    expect(roomEventsOf(sse).map((e) => e.message?.id ?? e.__typename)).toEqual([newer.id, 'MemberJoined']);
  });

  it('answers UNAUTHENTICATED without a token or with a bad one, and ends the stream', async () => {
    const app = await startTestApp();
    const alice = await user('alice');
    const roomId = await createRoom(app.graphqlUrl, alice.token);
    for (const token of [undefined, 'garbage', await signTestToken({ sub: 'bob' }, { expiresIn: '-1s' })]) {
      const sse = await subscribeSse(app.graphqlUrl, ROOM_EVENTS, { roomId }, token === undefined ? {} : { token });
      await within(sse.ended, 5_000, 'the refused stream to end');
      expect(sse.nexts()).toHaveLength(1);
      expect(sse.nexts()[0].errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(['UNAUTHENTICATED']);
      expect(sse.nexts()[0].data ?? null).toBeNull();
    }
    expect(await online(app.graphqlUrl, alice.token, roomId)).toEqual([]);
  });

  it('counts an SSE subscriber as present: MemberJoined when it opens, MemberLeft when the request is aborted', async () => {
    const { app, alice, bob, roomId, observer } = await watchedRoom();

    const sse = await subscribeSse(app.graphqlUrl, ROOM_EVENTS, { roomId }, { token: bob.token });
    await observer.waitForNexts('s', 2);
    expect(eventsOf(observer, 's')[1]).toEqual({ __typename: 'MemberJoined', roomId, user: { id: 'bob', name: 'Bob' } });
    expect((await online(app.graphqlUrl, alice.token, roomId)).find((p) => p.user.id === 'bob')).toEqual({
      user: { id: 'bob' },
      connections: 1,
    });

    await sse.close();
    await observer.waitForNexts('s', 3);
    expect(eventsOf(observer, 's')[2]).toEqual({ __typename: 'MemberLeft', roomId, user: { id: 'bob', name: 'Bob' } });
    await waitFor(async () => (await online(app.graphqlUrl, alice.token, roomId)).every((p) => p.user.id !== 'bob'), 5_000, 'bob offline');
  });
});

describe('which requests Yoga streams as SSE (pitfalls §25)', () => {
  // Yoga's own negotiation, read from its build (it is not exported): the admission must never drift from it.
  const yogaAccept = (async () =>
    (await import(new URL('../../node_modules/graphql-yoga/cjs/plugins/result-processor/accept.js', import.meta.url).href)) as {
      getMediaTypesForRequestInOrder(request: Request): string[];
      isMatchingMediaType(asked: string, processor: string): boolean;
    })();

  it.each([
    undefined,
    '',
    '*/*',
    'text/*',
    'TEXT/EVENT-STREAM',
    'text/event-stream',
    ' text/event-stream ; q=0.5',
    'application/json, */*;q=0.1',
    'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
    'text/event-stream; charset=latin1',
    'text/event-stream;charset=utf-8',
    'application/json',
    'application/graphql-response+json',
    'multipart/mixed',
    'text/html',
    '*/event-stream',
  ])('Accept %j: admitted as a stream exactly when Yoga would stream it', async (accept) => {
    const yoga = await yogaAccept;
    const request = new Request('http://localhost/graphql', accept === undefined ? {} : { headers: { accept } });
    const yogaStreams = yoga
      .getMediaTypesForRequestInOrder(request)
      .some((mediaType) => yoga.isMatchingMediaType('text/event-stream', mediaType));
    expect(mayAnswerWithEventStream(accept)).toBe(yogaStreams);
  });
});
