import { randomUUID } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createApp, type AppOptions } from '../../src/app.ts';
import { silentLogger } from '../../src/chat/logger.ts';
import { loadConfig } from '../../src/config.ts';
import { CHAT_DELIVERY_POLICY, type DeliveryPolicy } from '../../src/delivery/engine.ts';
import { ROOM_EVENTS, SET_TYPING, createRoom, send, user } from '../utils/chat.ts';
import { gql } from '../utils/http-client.ts';
import { useRedis } from '../utils/redis-server.ts';
import { TEST_SECRET } from '../utils/tokens.ts';
import { waitFor } from '../utils/wait.ts';
import { connectAuthed, type RawClient } from '../utils/ws-client.ts';

const redis = useRedis();

/** `TypingChanged.typing` listed per-viewer for this test: documents that select it are executed per subscriber. */
const POLICY: DeliveryPolicy = { ...CHAT_DELIVERY_POLICY, perViewerFields: ['TypingChanged.typing'] };

/** Like `startTestApp`, with the wiring options that the two paths differ by. */
async function startApp(env: Record<string, string>, options: AppOptions) {
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_SECRET, HOST: '127.0.0.1', PORT: '0', ...env });
  const app = await createApp(config, silentLogger, options);
  const { url, port } = await app.listen();
  onTestFinished(() => app.stop());
  return { graphqlUrl: `${url}/graphql`, wsUrl: `ws://127.0.0.1:${port}/graphql` };
}

// Every document declares `$after`: each subscriber resumes from one message, so all of them see the same stream.
const DOCUMENTS: Record<string, { query: string; variables?: Record<string, unknown> }> = {
  inline: { query: ROOM_EVENTS },
  'Apollo named fragments, __typename everywhere': {
    query: `subscription Watch($roomId: ID!, $after: ID) { roomEvents(roomId: $roomId, after: $after) { __typename ...RoomEventFields } }
fragment RoomEventFields on RoomEvent {
  __typename
  ... on MessageSent { __typename message { __typename ...MessageFields } }
  ... on MemberJoined { __typename user { __typename ...UserFields } at }
  ... on MemberLeft { __typename user { __typename ...UserFields } at }
  ... on TypingChanged { __typename user { __typename id } }
}
fragment MessageFields on Message { id roomId body sentAt clientMessageId author { __typename ...UserFields } }
fragment UserFields on User { id name }`,
  },
  aliases: {
    query: `subscription($roomId: ID!, $after: ID) { e: roomEvents(roomId: $roomId, after: $after) { t: __typename ... on MessageSent { m: message { i: id b: body who: author { n: name } } } ... on MemberJoined { u: user { i: id } } } }`,
  },
  '@include and @skip, coerced': {
    query: `subscription($roomId: ID!, $after: ID, $full: Boolean = true, $lean: Boolean!) { roomEvents(roomId: $roomId, after: $after) { __typename ... on MessageSent @skip(if: $lean) { message { id body @include(if: $full) } } } }`,
    variables: { lean: false },
  },
  'an explicit null for a defaulted @include: an error in every message result': {
    query: `subscription($roomId: ID!, $after: ID, $full: Boolean = true) {
  roomEvents(roomId: $roomId, after: $after) { __typename ... on MessageSent { message { id body @include(if: $full) } } }
}`,
    variables: { full: null },
  },
  'several root nodes and a fragment on Subscription': {
    query: `subscription($roomId: ID!, $after: ID) { roomEvents(roomId: $roomId, after: $after) { __typename } ...Root }
fragment Root on Subscription { roomEvents(roomId: $roomId, after: $after) { ... on MessageSent { message { id } } } }`,
  },
  'unshareable (a per-viewer field)': {
    query: `subscription($roomId: ID!, $after: ID) { roomEvents(roomId: $roomId, after: $after) { __typename ... on TypingChanged { user { id } typing } ... on MessageSent { message { id } } } }`,
  },
};

interface Reader {
  name: string;
  client: RawClient;
  frames: string[];
}

describe('the direct path and graphql-ws own loop write the same bytes', () => {
  it('for every document shape, every frame of every event kind', async () => {
    // graphql-armor counts each fragment level towards the depth limit: codegen-style nesting needs more than 10.
    const env = {
      REDIS_URL: redis().url,
      REDIS_PREFIX: redis().newPrefix(),
      MESSAGE_RATE: '1000',
      MESSAGE_BURST: '1000',
      GRAPHQL_MAX_DEPTH: '20',
    };
    const direct = await startApp(env, { directSubscriptions: true, deliveryPolicy: POLICY });
    const loop = await startApp(env, { directSubscriptions: false, deliveryPolicy: POLICY });
    const [writer, reader, late] = await Promise.all([user('writer'), user('reader'), user('late')]);
    const roomId = await createRoom(direct.graphqlUrl, writer.token);

    // The reader is present before the compared subscriptions open, so none of them adds a MemberJoined.
    const anchor = await connectAuthed(direct.wsUrl, reader.token);
    anchor.subscribe('anchor', ROOM_EVENTS, { roomId });
    await anchor.waitForNexts('anchor', 1);
    const before = await send(direct.graphqlUrl, writer.token, roomId, 'before');

    const pairs: Array<[Reader, Reader]> = [];
    for (const [name, { query, variables }] of Object.entries(DOCUMENTS)) {
      // One random id per pair (pitfalls §26): the two sockets' frames can then be compared byte for byte.
      const id = randomUUID();
      const pair = await Promise.all(
        [direct, loop].map(async (app, i) => {
          const client = await connectAuthed(app.wsUrl, reader.token);
          const frames: string[] = [];
          client.socket.on('message', (data) => frames.push(String(data)));
          client.subscribe(id, query, { roomId, after: before.id, ...variables });
          return { name: `${name} (${i === 0 ? 'direct' : 'graphql-ws'})`, client, frames };
        }),
      );
      pairs.push(pair as [Reader, Reader]);
    }
    const readers = pairs.flat();
    let expected = 0;
    /** One event reaches every reader as one frame: the next step waits for it, so every reader sees one order. */
    const step = async (what: string, act: () => Promise<unknown>) => {
      expected += 1;
      await act();
      for (const r of readers) await waitFor(() => r.frames.length >= expected, 5_000, `${r.name}: ${what}: ${JSON.stringify(r.frames)}`);
    };

    await step('a message (replayed or live)', () => send(direct.graphqlUrl, writer.token, roomId, 'first'));
    await step('typing', () => gql(direct.graphqlUrl, SET_TYPING, { roomId, typing: true }, writer.token));
    await step('typing stopped', () => gql(loop.graphqlUrl, SET_TYPING, { roomId, typing: false }, writer.token));
    const lateClient = await connectAuthed(direct.wsUrl, late.token);
    await step('a member joined', async () => {
      lateClient.subscribe('late', ROOM_EVENTS, { roomId });
      await lateClient.waitForNexts('late', 1);
    });
    await step('a member left', () => lateClient.close());
    await step('a message with a client id and characters to escape', () =>
      send(loop.graphqlUrl, writer.token, roomId, 'quote " backslash \\ newline \n emoji 😀 <tag>', 'client-1'),
    );

    for (const [a, b] of pairs) {
      expect(a.frames.length, a.name).toBe(expected);
      expect(a.frames, a.name).toEqual(b.frames);
      // Frames as a graphql-ws client parses them, under the pair's id.
      for (const frame of a.frames) expect(JSON.parse(frame)).toMatchObject({ type: 'next' });
    }
    // The error document's message results carry errors (with locations into the document), not data.
    const errors = pairs.find(([a]) => a.name.startsWith('an explicit null'))![0].frames.map((f) => JSON.parse(f).payload);
    expect(errors.filter((p) => p.errors?.length)).toHaveLength(2);
    await redis().deleteKeys(env.REDIS_PREFIX);
  });
});
