import { execute, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { maskResult } from '../../src/graphql/errors.ts';
import { createChatSchema } from '../../src/graphql/schema.ts';
import { gql } from '../utils/http-client.ts';
import { subscribeSse } from '../utils/sse-client.ts';
import { startTestApp } from '../utils/test-app.ts';
import { signTestToken } from '../utils/tokens.ts';
import { connectAuthed } from '../utils/ws-client.ts';

// Different selections of one room at once: some identical (they share one execution), some with variables that
// change the result, aliases, named fragments (shared too, `src/delivery/shape-analysis.ts`). Each must get exactly
// what graphql-js produces for it alone.
const SELECTIONS: Array<{ query: string; variables?: Record<string, unknown> }> = [
  { query: `subscription($r: ID!) { roomEvents(roomId: $r) { __typename ... on MessageSent { message { id body } } } }` },
  { query: `subscription($r: ID!) { roomEvents(roomId: $r) { __typename ... on MessageSent { message { id body } } } }` },
  {
    query: `subscription($r: ID!) { roomEvents(roomId: $r) { ... on MessageSent { m: message { author { id name } sentAt roomId clientMessageId } } } }`,
  },
  {
    query: `subscription($r: ID!, $withBody: Boolean!) { roomEvents(roomId: $r) { ... on MessageSent { message { id body @include(if: $withBody) } } } }`,
    variables: { withBody: true },
  },
  {
    query: `subscription($r: ID!, $withBody: Boolean!) { roomEvents(roomId: $r) { ... on MessageSent { message { id body @include(if: $withBody) } } } }`,
    variables: { withBody: false },
  },
  {
    query: `subscription Named($r: ID!) { roomEvents(roomId: $r) { ...Event } } fragment Event on RoomEvent { __typename ... on MessageSent { message { id author { name } } } }`,
  },
];

describe('execute-once delivery', () => {
  it('gives every subscriber exactly what graphql-js would have produced for it', async () => {
    const app = await startTestApp({ MESSAGE_RATE: '1000', MESSAGE_BURST: '1000' });
    const token = await signTestToken({ sub: 'alice', name: 'Alice' });
    const created = await gql(app.graphqlUrl, 'mutation { createRoom(name: "shared") { id } }', {}, token);
    const roomId = created.data?.createRoom.id as string;

    const clients = await Promise.all(SELECTIONS.map(async (_, i) => connectAuthed(app.wsUrl, await signTestToken({ sub: `reader${i}` }))));
    SELECTIONS.forEach(({ query, variables }, i) => clients[i]!.subscribe('s', query, { r: roomId, ...variables }));
    // Each reader is a different user, so each sees its own MemberJoined first: its subscription is live.
    await Promise.all(clients.map((client) => client.waitForNexts('s', 1)));

    // Past the 64 executions after which a document is compiled (`src/delivery/compiled-execution.ts`): the last
    // messages reach the sockets through graphql-jit's compiled form, and must still be what graphql-js gives.
    const sent = 80;
    for (let i = 0; i < sent; i++) {
      const response = await gql(
        app.graphqlUrl,
        'mutation($r: ID!, $b: String!, $c: ID) { sendMessage(roomId: $r, body: $b, clientMessageId: $c) { id } }',
        { r: roomId, b: `message ${i}`, c: i % 2 ? `c${i}` : null },
        token,
      );
      expect(response.errors).toBeUndefined();
    }

    const history = await gql(
      app.graphqlUrl,
      'query($r: ID!) { room(id: $r) { messages(last: 100) { id roomId body sentAt clientMessageId author { id name } } } }',
      { r: roomId },
      token,
    );
    const messages = history.data?.room.messages as Array<Record<string, unknown>>;
    expect(messages).toHaveLength(sent);

    const schema = createChatSchema();
    for (const [i, { query, variables }] of SELECTIONS.entries()) {
      const expected = await Promise.all(
        messages.map(async (message) =>
          JSON.parse(
            JSON.stringify(
              await execute({
                schema,
                document: parse(query),
                rootValue: { kind: 'message', roomId, message: { ...message, seq: 0 } },
                variableValues: { r: roomId, ...variables },
                contextValue: {},
              }),
            ),
          ),
        ),
      );
      const received = await clients[i]!.waitForNexts('s', 1 + sent);
      const messageResults = received.filter(
        (payload: { data?: { roomEvents?: Record<string, unknown> } }) =>
          payload.data?.roomEvents && ('message' in payload.data.roomEvents || 'm' in payload.data.roomEvents),
      );
      expect(messageResults, `selection ${i}`).toEqual(expected);
    }
  });
});

// `$full` explicitly null and `$full` omitted (its default, true) are different operations: graphql-js answers the
// first with an error (`@include(if:)` takes a Boolean!) and the second with the body. Sharing them poisons one.
const NULLABLE_DEFAULT = `subscription($r: ID!, $full: Boolean = true) { roomEvents(roomId: $r) { __typename ... on MessageSent { message { id body @include(if: $full) } } } }`;
const VARIABLES = { explicitNull: { full: null }, omitted: {} } as const;

describe('execute-once delivery keys on coerced variables', () => {
  for (const transport of ['ws', 'sse'] as const) {
    for (const order of [
      ['explicitNull', 'omitted'],
      ['omitted', 'explicitNull'],
    ] as const) {
      it(`over ${transport}, ${order[0]} then ${order[1]}: each gets what graphql-js gives it alone`, async () => {
        const app = await startTestApp();
        const owner = await signTestToken({ sub: 'owner' });
        const roomId = (await gql(app.graphqlUrl, 'mutation { createRoom(name: "poison") { id } }', {}, owner)).data?.createRoom
          .id as string;
        const readers: Array<{
          name: string;
          variables: Record<string, unknown>;
          results: () => any[];
          waitFor: (n: number) => Promise<unknown>;
        }> = [];
        for (const name of order) {
          const variables = { r: roomId, ...VARIABLES[name] };
          const token = await signTestToken({ sub: name });
          if (transport === 'ws') {
            const client = await connectAuthed(app.wsUrl, token);
            client.subscribe('s', NULLABLE_DEFAULT, variables);
            await client.waitForNexts('s', 1);
            readers.push({ name, variables, results: () => client.nexts('s'), waitFor: (n) => client.waitForNexts('s', n) });
          } else {
            const sse = await subscribeSse(app.graphqlUrl, NULLABLE_DEFAULT, variables, { token });
            await sse.waitForNexts(1);
            readers.push({ name, variables, results: () => sse.nexts(), waitFor: (n) => sse.waitForNexts(n) });
          }
        }
        const sent = await gql(
          app.graphqlUrl,
          'mutation($r: ID!) { sendMessage(roomId: $r, body: "hi") { id roomId body sentAt clientMessageId author { id name } } }',
          { r: roomId },
          owner,
        );
        const message = sent.data?.sendMessage as Record<string, unknown>;
        const schema = createChatSchema();
        for (const reader of readers) {
          await reader.waitFor(reader === readers[0] ? 3 : 2);
          const alone = await execute({
            schema,
            document: parse(NULLABLE_DEFAULT),
            rootValue: { kind: 'message', roomId, message: { ...message, seq: 1 } },
            variableValues: reader.variables,
            contextValue: {},
          });
          // Through the server's error masking, as every result is (it drops the path of an argument error).
          expect(reader.results().at(-1), reader.name).toEqual(JSON.parse(JSON.stringify(maskResult(alone))));
        }
        // The two answers differ, so sharing one execution could not have been right for both.
        expect(readers[0]!.results().at(-1)).not.toEqual(readers[1]!.results().at(-1));
      });
    }
  }
});
