import fc from 'fast-check';
import { execute, parse, validate, type DocumentNode, type ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { RoomEvent } from '../../src/chat/types.ts';
import { CompiledExecution } from '../../src/delivery/compiled-execution.ts';
import { CHAT_DELIVERY_POLICY, createDeliveryEngine } from '../../src/delivery/engine.ts';
import type { DocumentEvent } from '../../src/documents/types.ts';
import { maskResult } from '../../src/graphql/errors.ts';
import { createChatSchema } from '../../src/graphql/schema.ts';
import { buildOperation, Rng } from '../fuzz/support/documents.ts';

/*
 * Shared subscriptions are executed by graphql-jit once a document is hot (`src/delivery/compiled-execution.ts`).
 * What a subscriber receives must not depend on that: for random documents that the engine shares (real fields,
 * named and inline fragments, aliases, @include/@skip on literals and variables, odd variables) and random events of
 * every member type (unicode, lone surrogates, nulls where the schema allows them), the result served is, byte for
 * byte, what graphql-js's `execute` returns.
 */

const schema = createChatSchema();
const engine = createDeliveryEngine({ schema, mask: maskResult, policy: CHAT_DELIVERY_POLICY });
const world = { roomIds: ['r1', 'general'], userIds: ['alice', 'bob'], messageIds: ['r1:0001'] };
const NO_CONTEXT = Object.freeze({});

function text(rng: Rng): string {
  return rng.chance(0.5) ? `plain ${rng.int(0, 1e6)}` : rng.nastyString(24);
}

function roomEvent(rng: Rng): RoomEvent {
  const user = { id: text(rng), name: text(rng) };
  const at = new Date(rng.int(0, 2e12)).toISOString();
  switch (rng.int(0, 3)) {
    case 0: {
      const message = {
        id: `r1:${rng.int(1, 9999)}`,
        roomId: 'r1',
        seq: rng.int(1, 9999),
        author: user,
        body: text(rng),
        sentAt: at,
        clientMessageId: rng.chance(0.5) ? null : text(rng),
      };
      return { kind: 'message', roomId: 'r1', message };
    }
    case 1:
      return { kind: 'joined', roomId: 'r1', user, at };
    case 2:
      return { kind: 'left', roomId: 'r1', user, at };
    default:
      return { kind: 'typing', roomId: 'r1', user, typing: rng.chance(0.5), at };
  }
}

function documentEvent(rng: Rng): DocumentEvent {
  const user = { id: text(rng), name: text(rng) };
  const at = new Date(rng.int(0, 2e12)).toISOString();
  switch (rng.int(0, 3)) {
    case 0: {
      const operation = rng.chance(0.2) ? [] : [rng.int(0, 40), text(rng), { d: rng.int(1, 5) }];
      const edit = {
        documentId: 'd1',
        version: rng.int(1, 500),
        operation,
        author: user,
        clientEditId: rng.chance(0.5) ? null : text(rng),
        at,
      };
      return { kind: 'edited', edit };
    }
    case 1:
      return { kind: 'editorJoined', documentId: 'd1', user, at };
    case 2:
      return { kind: 'editorLeft', documentId: 'd1', user, at };
    default:
      return { kind: 'cursor', documentId: 'd1', user, version: rng.int(0, 500), anchor: rng.int(0, 40), head: rng.int(0, 40), at };
  }
}

/** A random subscription that the engine shares, with its variables; null for one it does not share or that is invalid. */
function sharedOperation(seed: number): { query: string; document: DocumentNode; variables: Record<string, unknown>; root: string } | null {
  const operation = buildOperation(seed, world, 'subscription');
  // Generated text may not parse (a lone surrogate in a literal), and graphql-js's single-root-field rule throws on
  // @skip($var) at the root: documents no server runs either.
  let document: DocumentNode;
  try {
    document = parse(operation.query);
    if (validate(schema, document).length > 0) return null;
  } catch {
    return null;
  }
  const shape = engine.shapeOf(document, undefined);
  if (!shape) return null;
  const root = operation.query.includes('documentEvents') ? 'documentEvents' : 'roomEvents';
  return { query: operation.query, document, variables: operation.variables, root };
}

describe('compiled execution of shared subscriptions', () => {
  it('serves, for random shared documents and events, exactly what graphql-js returns', () => {
    const compiled = new CompiledExecution({ compileAfter: 0 });
    let documents = 0;
    let errorFree = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x7fffffff }), fc.integer({ min: 0, max: 0x7fffffff }), (seed, eventSeed) => {
        const operation = sharedOperation(seed);
        if (!operation) return;
        documents += 1;
        const rng = new Rng(eventSeed);
        const args = { schema, document: operation.document, variableValues: operation.variables };
        for (let i = 0; i < 6; i += 1) {
          const event = operation.root === 'documentEvents' ? documentEvent(rng) : roomEvent(rng);
          const expected = execute({ ...args, contextValue: NO_CONTEXT, rootValue: event });
          const served = compiled.execute(args, NO_CONTEXT, event);
          expect(served).not.toBeInstanceOf(Promise);
          expect(JSON.stringify(served)).toBe(JSON.stringify(expected));
          if (!('errors' in expected && expected.errors)) errorFree += 1;
        }
        expect(compiled.stateOf(args)).toBe(/@(include|skip)\b/.test(operation.query) ? 'refused' : 'compiled');
      }),
      { numRuns: 1500 },
    );
    // The property is about something only if enough generated documents are shared and most results are clean.
    expect(documents).toBeGreaterThan(200);
    expect(errorFree).toBeGreaterThan(documents * 3);
  });

  it('executes the README documents compiled once they are hot, and graphql-js before', () => {
    const compiled = new CompiledExecution({ compileAfter: 3 });
    const document = parse(
      'subscription Watch($roomId: ID!, $after: ID) { roomEvents(roomId: $roomId, after: $after) { __typename ...RoomEventFields } } ' +
        'fragment RoomEventFields on RoomEvent { ... on MessageSent { message { id roomId body sentAt } } }',
    );
    const args = { schema, document, operationName: 'Watch', variableValues: { roomId: 'r1' } };
    const rng = new Rng(7);
    const states: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const event = roomEvent(rng);
      states.push(compiled.stateOf(args));
      expect(JSON.stringify(compiled.execute(args, NO_CONTEXT, event))).toBe(
        JSON.stringify(execute({ ...args, contextValue: NO_CONTEXT, rootValue: event })),
      );
    }
    expect(states).toEqual(['interpreted', 'interpreted', 'interpreted', 'interpreted', 'compiled']);
  });

  it('answers an event that breaks the schema with graphql-js errors, message, path and location included', () => {
    const compiled = new CompiledExecution({ compileAfter: 0 });
    const document = parse('subscription($r: ID!) { roomEvents(roomId: $r) { ... on MessageSent { message { id body sentAt } } } }');
    const args = { schema, document, variableValues: { r: 'r1' } };
    const broken = { kind: 'message', roomId: 'r1', message: { id: 'r1:1', roomId: 'r1', body: null, sentAt: 'not a date' } };
    const served = compiled.execute(args, NO_CONTEXT, broken);
    const expected = execute({ ...args, contextValue: NO_CONTEXT, rootValue: broken });
    expect((expected as ExecutionResult).errors?.length).toBeGreaterThan(0);
    expect(JSON.stringify(served)).toBe(JSON.stringify(expected));
    expect(compiled.stateOf(args)).toBe('compiled');
  });
});
