import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { RoomEvent } from '../../src/chat/types.ts';
import { maskResult } from '../../src/graphql/errors.ts';
import { createChatSchema } from '../../src/graphql/schema.ts';
import { ShapeRegistry } from '../../src/delivery/shared-shape.ts';

const schema = createChatSchema();
const document = parse('subscription { roomEvents(roomId: "r") { __typename ... on MemberJoined { roomId user { id name } at } } }');
const event: RoomEvent = { kind: 'joined', roomId: 'r', user: { id: 'a', name: 'A' }, at: '2026-01-01T00:00:00.000Z' };
const executed = {
  data: { roomEvents: { __typename: 'MemberJoined', roomId: 'r', user: { id: 'a', name: 'A' }, at: '2026-01-01T00:00:00.000Z' } },
};

describe('SharedShape', () => {
  it('is shared while it has subscribers and forgotten with the last one', () => {
    const registry = new ShapeRegistry(maskResult);
    const args = { schema, document };
    const first = registry.join('unit-shape', args);
    expect(registry.join('unit-shape', args)).toBe(first);
    first.release();
    expect(registry.join('unit-shape', args)).toBe(first);
    first.release();
    first.release();
    expect(registry.size).toBe(0);
    const next = registry.join('unit-shape', args);
    expect(next).not.toBe(first);
    next.release();
  });

  it('executes an event once, whichever subscriber asks, without the context of the one who came first', () => {
    const registry = new ShapeRegistry(maskResult);
    const shape = registry.join('unit-once', { schema, document, contextValue: { viewer: { id: 'first' } } } as Parameters<
      ShapeRegistry['join']
    >[1]);
    const result = shape.resultFor(event);
    // The event's own result, executed without errors: not merely the same object twice.
    expect(result).toEqual(executed);
    expect(shape.resultFor(event)).toBe(result);
    const copy = shape.resultFor({ ...event });
    expect(copy).not.toBe(result);
    expect(copy).toEqual(executed);
    expect(shape.args).not.toHaveProperty('contextValue');
    shape.release();
  });

  it('two engines share nothing: the registry is an instance, not a module', () => {
    const one = new ShapeRegistry(maskResult);
    const two = new ShapeRegistry(maskResult);
    const a = one.join('same-key', { schema, document });
    const b = two.join('same-key', { schema, document });
    expect(a).not.toBe(b);
    expect(a.resultFor(event)).not.toBe(b.resultFor(event));
    a.release();
    b.release();
  });
});
