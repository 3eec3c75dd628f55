import { describe, expect, it } from 'vitest';
import { createRoom, send, user } from '../utils/chat.ts';
import { gql } from '../utils/http-client.ts';
import { startInstance, type Instance } from '../utils/instance.ts';
import { waitFor } from '../utils/wait.ts';
import { connectAuthed } from '../utils/ws-client.ts';

// What the protocol fuzzer found beyond the review's list (docs/fuzzing.md), each pinned here as a user sees it: a
// client's mistake is answered with a coded error for that operation, and the server logs no fault of its own.

/** Lines the instance logged at pino's error level or above, or anything it printed that is not a log line. */
const faults = (instance: Instance): string[] =>
  instance
    .output()
    .split('\n')
    .filter(Boolean)
    .filter((line) => {
      try {
        return (JSON.parse(line) as { level?: number }).level! >= 50;
      } catch {
        return true;
      }
    });

describe("input errors are the client's, not faults of the server", () => {
  it('a variable that does not coerce: BAD_USER_INPUT with its context, nothing logged as an error', async () => {
    const instance = await startInstance({ env: { LOG_LEVEL: 'warn' } });
    const alice = await user('alice');
    const answer = await gql(instance.graphqlUrl, 'query($b: Boolean!) { me @include(if: $b) { id } }', { b: 'yes' }, alice.token);
    expect(answer.data ?? undefined).toBeUndefined();
    expect(answer.errors).toEqual([
      {
        message: 'Variable "$b" got invalid value "yes"; Boolean cannot represent a non boolean value: "yes"',
        locations: [{ line: 1, column: 7 }],
        extensions: { code: 'BAD_USER_INPUT' },
      },
    ]);
    // Without a token, over WebSocket, and a null for a non-null directive argument: the same.
    const anonymous = await gql(instance.graphqlUrl, 'query($b: Boolean!) { me @include(if: $b) { id } }', { b: 0 });
    expect(anonymous.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    const socket = await connectAuthed(instance.wsUrl, alice.token);
    socket.subscribe('q', 'query($b: Boolean = true) { me { id @include(if: $b) } }', { b: null });
    const reply = await socket.waitFor((message) => message.id === 'q' && message.type === 'next');
    expect(reply.payload).toEqual({
      data: null,
      errors: [
        {
          message: 'Argument "if" of non-null type "Boolean!" must not be null.',
          locations: [{ line: 1, column: 50 }],
          path: ['me'],
          extensions: { code: 'BAD_USER_INPUT' },
        },
      ],
    });
    expect(faults(instance)).toEqual([]);
  });

  it('a conditional subscription root field: GRAPHQL_VALIDATION_FAILED for that operation, the socket stays open', async () => {
    const instance = await startInstance({ env: { LOG_LEVEL: 'warn' } });
    const admin = await user('root');
    const socket = await connectAuthed(instance.wsUrl, admin.token);
    for (const [id, document] of [
      ['skip', 'subscription { serverStats @skip(if: true) { at } }'],
      ['include', 'subscription($on: Boolean!) { ... on Subscription { roomEvents(roomId: "r") @include(if: $on) { __typename } } }'],
      ['fragment', 'subscription { ...Root } fragment Root on Subscription { serverStats @skip(if: false) { at } }'],
    ] as const) {
      socket.subscribe(id, document, { on: false });
      const reply = await socket.waitFor((message) => message.id === id);
      expect(reply.type).toBe('error');
      expect(reply.payload.map((error: { extensions?: { code?: string } }) => error.extensions?.code)).toEqual([
        'GRAPHQL_VALIDATION_FAILED',
      ]);
    }
    const sse = await fetch(instance.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${admin.token}` },
      body: JSON.stringify({ query: 'subscription { serverStats @skip(if: true) { at } }' }),
      signal: AbortSignal.timeout(10_000),
    });
    expect(await sse.text()).toContain('GRAPHQL_VALIDATION_FAILED');
    socket.subscribe('me', '{ me { id } }');
    expect((await socket.waitForNexts('me', 1))[0]).toEqual({ data: { me: { id: 'root' } } });
    expect(faults(instance)).toEqual([]);
  });

  it('fields of list items that fail at once beside others that fail later: coded errors, no unhandled rejection', async () => {
    const instance = await startInstance({ env: { LOG_LEVEL: 'warn' } });
    const alice = await user('alice');
    const rooms = [
      await createRoom(instance.graphqlUrl, alice.token, { name: 'first' }),
      await createRoom(instance.graphqlUrl, alice.token, { name: 'second' }),
    ];
    const messageIds = await Promise.all(rooms.map(async (roomId) => (await send(instance.graphqlUrl, alice.token, roomId, 'hello')).id));
    // `before` is a message of one room only, so the other room's history refuses it; `last` is refused everywhere.
    // Whichever item fails first, an earlier item's promise must not be left to reject unheard.
    for (const before of messageIds) {
      for (const query of [
        'query($before: ID) { rooms { messages(before: $before) { body } refused: messages(last: -2147483648) { body } } }',
        'query($before: ID) { rooms { refused: messages(last: -2147483648) { body } messages(before: $before) { body } } }',
      ]) {
        const answer = await gql(instance.graphqlUrl, query, { before }, alice.token);
        expect(answer.data ?? null).toBeNull();
        expect(new Set(answer.errors?.map((error) => error.extensions?.code))).toEqual(new Set(['BAD_USER_INPUT']));
      }
    }
    // An unhandled rejection is logged by the process's handler; a later request has seen every earlier one settle.
    await waitFor(
      async () => (await gql(instance.graphqlUrl, '{ me { id } }', {}, alice.token)).data !== undefined,
      5_000,
      'a later query',
    );
    expect(faults(instance)).toEqual([]);
  });
});
