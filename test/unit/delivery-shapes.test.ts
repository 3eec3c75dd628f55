import { randomUUID } from 'node:crypto';
import { execute, parse, validate, type ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import { EventQueue, type PipeableSource } from '../../src/chat/event-queue.ts';
import type { RoomEvent, Viewer } from '../../src/chat/types.ts';
import {
  CHAT_DELIVERY_POLICY,
  createDeliveryEngine,
  type DeliveryPolicy,
  type OwnArgs,
  type SharedShape,
} from '../../src/delivery/engine.ts';
import { maskResult } from '../../src/graphql/errors.ts';
import { createChatSchema } from '../../src/graphql/schema.ts';

const schema = createChatSchema();

const message: RoomEvent = {
  kind: 'message',
  roomId: 'r1',
  message: {
    id: 'r1:0001',
    roomId: 'r1',
    seq: 1,
    author: { id: 'alice', name: 'Alice' },
    body: 'hi',
    sentAt: '2026-01-01T00:00:00.000Z',
    clientMessageId: null,
  },
};

const viewer = (id: string): Viewer => ({ id, name: id, roles: [], expiresAt: Date.now() + 60_000 });

interface Taken {
  source: PipeableSource;
  shape: SharedShape;
  own: OwnArgs | null;
}

/**
 * One subscriber through the engine as the WebSocket direct path drives it: the real schema and resolvers, the
 * root field's stream an EventQueue as the room service returns it, the stream handed to a target.
 */
async function subscribe(engine: ReturnType<typeof createDeliveryEngine>, query: string, variables: Record<string, unknown>, userId = 'u') {
  let taken: Taken | null = null;
  const document = parse(query);
  expect(validate(schema, document)).toEqual([]);
  const result = await engine.subscribe({
    schema,
    document,
    variableValues: variables,
    contextValue: {
      viewer: viewer(userId),
      chat: { roomEvents: { open: async () => new EventQueue() } },
      directDelivery: { takeStream: (source: PipeableSource, shape: SharedShape, own: OwnArgs | null) => (taken = { source, shape, own }) },
    },
  });
  return { taken: taken as Taken | null, result, document };
}

const alone = (document: ReturnType<typeof parse>, variables: Record<string, unknown>, event: RoomEvent): ExecutionResult =>
  maskResult(execute({ schema, document, variableValues: variables, rootValue: event, contextValue: {} }) as ExecutionResult);

const INLINE = `subscription Watch($roomId: ID!) { roomEvents(roomId: $roomId) { __typename ... on MessageSent { message { id roomId body sentAt } } } }`;
// The Apollo / codegen client-preset document (pitfalls §27).
const APOLLO = `subscription Watch($roomId: ID!) { roomEvents(roomId: $roomId) { __typename ...RoomEventFields } }
fragment RoomEventFields on RoomEvent { ... on MessageSent { message { id roomId body sentAt } } }`;

// Pairs (or more) of documents and variables that must share one execution per event.
const SHARED: Record<string, Array<{ query: string; variables: Record<string, unknown> }>> = {
  'inline, random ids and different `after`': [
    { query: INLINE, variables: { roomId: 'r1' } },
    { query: INLINE, variables: { roomId: 'r1' } },
  ],
  'the Apollo named fragment, and the same selection written inline': [
    { query: APOLLO, variables: { roomId: 'r1' } },
    { query: APOLLO, variables: { roomId: 'r1' } },
    { query: INLINE, variables: { roomId: 'r1' } },
  ],
  'fragments with __typename everywhere, nested': [
    {
      query: `subscription W($r: ID!) { roomEvents(roomId: $r) { __typename ...E } }
fragment E on RoomEvent { __typename ... on MessageSent { __typename message { __typename ...M } } ... on MemberJoined { __typename user { __typename ...U } at } }
fragment M on Message { id body author { __typename ...U } }
fragment U on User { id name }`,
      variables: { r: 'r1' },
    },
    {
      query: `subscription W($r: ID!) { roomEvents(roomId: $r) { __typename ...E } }
fragment E on RoomEvent { __typename ... on MessageSent { __typename message { __typename ...M } } ... on MemberJoined { __typename user { __typename ...U } at } }
fragment M on Message { id body author { __typename ...U } }
fragment U on User { id name }`,
      variables: { r: 'r1', after: null },
    },
  ],
  aliases: [
    {
      query: `subscription($r: ID!) { e: roomEvents(roomId: $r) { t: __typename ... on MessageSent { m: message { i: id b: body } } } }`,
      variables: { r: 'r1' },
    },
    {
      query: `subscription($r: ID!, $a: ID) { e: roomEvents(roomId: $r, after: $a) { t: __typename ... on MessageSent { m: message { i: id b: body } } } }`,
      variables: { r: 'r1', a: null },
    },
  ],
  '@include with a default: omitted and `true` coerce alike': [
    {
      query: `subscription($r: ID!, $full: Boolean = true) { roomEvents(roomId: $r) { ... on MessageSent { message { id body @include(if: $full) } } } }`,
      variables: { r: 'r1' },
    },
    {
      query: `subscription($r: ID!, $full: Boolean = true) { roomEvents(roomId: $r) { ... on MessageSent { message { id body @include(if: $full) } } } }`,
      variables: { r: 'r1', full: true },
    },
  ],
  '@skip in a named fragment': [
    {
      query: `subscription($r: ID!, $lean: Boolean!) { roomEvents(roomId: $r) { ...F } } fragment F on RoomEvent { ... on MessageSent @skip(if: $lean) { message { body } } }`,
      variables: { r: 'r1', lean: false },
    },
    {
      query: `subscription($r: ID!, $lean: Boolean!) { roomEvents(roomId: $r) { ...F } } fragment F on RoomEvent { ... on MessageSent @skip(if: $lean) { message { body } } }`,
      variables: { r: 'r1', lean: false },
    },
  ],
  'several root field nodes that merge into one, and fragments on Subscription': [
    {
      query: `subscription($r: ID!) { roomEvents(roomId: $r) { __typename } roomEvents(roomId: $r) { ... on MessageSent { message { id } } } }`,
      variables: { r: 'r1' },
    },
    {
      query: `subscription($r: ID!) { ... on Subscription { roomEvents(roomId: $r) { __typename } } ...Root } fragment Root on Subscription { roomEvents(roomId: $r) { ... on MessageSent { message { id } } } }`,
      variables: { r: 'r1' },
    },
  ],
};

describe('delivery engine: every context-free document shape shares execution', () => {
  for (const [name, subscribers] of Object.entries(SHARED)) {
    it(name, async () => {
      const engine = createDeliveryEngine({ schema, mask: maskResult, policy: CHAT_DELIVERY_POLICY });
      const taken = [];
      for (const { query, variables } of subscribers) {
        const { taken: one, document } = await subscribe(engine, query, variables, randomUUID());
        expect(one, 'handed over to the direct target').not.toBeNull();
        taken.push({ ...one!, document, variables });
      }
      expect(engine.liveShapes).toBe(1);
      const first = taken[0]!;
      for (const subscriber of taken) {
        expect(subscriber.shape).toBe(first.shape);
        const result = subscriber.shape.resultFor(message, subscriber.own);
        // One execution: the very same result object for every subscriber, so it is serialized once too.
        expect(result).toBe(first.shape.resultFor(message, first.own));
        expect(JSON.stringify(result)).toBe(JSON.stringify(alone(subscriber.document, subscriber.variables, message)));
      }
      for (const subscriber of taken) subscriber.shape.release();
      expect(engine.liveShapes).toBe(0);
    });
  }

  it('keeps apart what differs: another room, another selection, @include false, an explicit null', async () => {
    const engine = createDeliveryEngine({ schema, mask: maskResult, policy: CHAT_DELIVERY_POLICY });
    const include = `subscription($r: ID!, $full: Boolean = true) { roomEvents(roomId: $r) { ... on MessageSent { message { id body @include(if: $full) } } } }`;
    const subscribers = await Promise.all([
      subscribe(engine, INLINE, { roomId: 'r1' }),
      subscribe(engine, INLINE, { roomId: 'r2' }),
      subscribe(engine, `subscription($r: ID!) { roomEvents(roomId: $r) { ... on MessageSent { message { id } } } }`, { r: 'r1' }),
      subscribe(engine, include, { r: 'r1' }),
      subscribe(engine, include, { r: 'r1', full: false }),
      subscribe(engine, include, { r: 'r1', full: null }),
    ]);
    expect(new Set(subscribers.map(({ taken }) => taken!.shape)).size).toBe(subscribers.length);
    // The explicit null is an error for that subscriber alone (`@include(if:)` takes a Boolean!).
    const explicitNull = subscribers[5]!;
    expect((explicitNull.taken!.shape.resultFor(message) as ExecutionResult).errors?.[0]?.message).toMatch(/"if"/);
    expect((subscribers[3]!.taken!.shape.resultFor(message) as ExecutionResult).errors).toBeUndefined();
  });

  it('a document of another text with the same shape shares results, but executes alone one whose errors locate into it', async () => {
    const engine = createDeliveryEngine({ schema, mask: maskResult, policy: CHAT_DELIVERY_POLICY });
    const one = `subscription($r: ID!, $f: Boolean = true) { roomEvents(roomId: $r) { ... on MessageSent { message { body @include(if: $f) } } } }`;
    const other = `subscription($r: ID!, $f: Boolean = true)   {\n  roomEvents(roomId: $r) {\n ... on MessageSent { message { body @include(if: $f) } } } }`;
    const a = await subscribe(engine, one, { r: 'r1', f: null });
    const b = await subscribe(engine, other, { r: 'r1', f: null });
    expect(b.taken!.shape).toBe(a.taken!.shape);
    expect(a.taken!.own).toBeNull();
    expect(b.taken!.own).not.toBeNull();
    // The errors' locations differ, so the two results do too: each is what graphql-js gives that document alone.
    expect(JSON.stringify(alone(a.document, { r: 'r1', f: null }, message))).not.toBe(
      JSON.stringify(alone(b.document, { r: 'r1', f: null }, message)),
    );
    expect(JSON.stringify(b.taken!.shape.resultFor(message, b.taken!.own))).toBe(
      JSON.stringify(alone(b.document, { r: 'r1', f: null }, message)),
    );
    expect(JSON.stringify(a.taken!.shape.resultFor(message, null))).toBe(JSON.stringify(alone(a.document, { r: 'r1', f: null }, message)));
  });

  it('an operation that selects a per-viewer field is not shared: one execution per subscriber, not handed over', async () => {
    const policy: DeliveryPolicy = { ...CHAT_DELIVERY_POLICY, perViewerFields: ['User.name'] };
    const engine = createDeliveryEngine({ schema, mask: maskResult, policy });
    const perViewer = `subscription($r: ID!) { roomEvents(roomId: $r) { ... on MessageSent { message { author { name } } } } }`;
    expect(engine.shapeOf(parse(perViewer), undefined)).toBeNull();
    expect(
      engine.shapeOf(
        parse(
          `subscription($r: ID!) { roomEvents(roomId: $r) { ... on MessageSent { message { ...A } } } } fragment A on Message { author { name } }`,
        ),
        undefined,
      ),
    ).toBeNull();
    expect(engine.shapeOf(parse(INLINE), 'Watch')).not.toBeNull();
    const { taken, result } = await subscribe(engine, perViewer, { r: 'r1' });
    expect(taken).toBeNull();
    expect(Symbol.asyncIterator in result).toBe(true);
    expect(engine.liveShapes).toBe(0);
  });

  it('shares nothing for root fields outside the policy, queries and mutations', () => {
    const engine = createDeliveryEngine({ schema, mask: maskResult, policy: CHAT_DELIVERY_POLICY });
    expect(engine.shapeOf(parse('subscription { serverStats { at } }'), undefined)).toBeNull();
    expect(engine.shapeOf(parse('{ me { id } }'), undefined)).toBeNull();
    expect(engine.shapeOf(parse('mutation { setTyping(roomId: "r", typing: true) }'), undefined)).toBeNull();
  });
});
