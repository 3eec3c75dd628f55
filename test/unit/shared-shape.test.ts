import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createChatSchema } from '../../src/graphql/schema.ts';
import { SharedShape } from '../../src/graphql/shared-execution.ts';
import type { RoomEvent } from '../../src/chat/types.ts';

const schema = createChatSchema();
const document = parse('subscription { roomEvents(roomId: "r") { __typename ... on MemberJoined { roomId user { id name } at } } }');
const event: RoomEvent = { kind: 'joined', roomId: 'r', user: { id: 'a', name: 'A' }, at: '2026-01-01T00:00:00.000Z' };
const executed = { data: { roomEvents: { __typename: 'MemberJoined', roomId: 'r', user: { id: 'a', name: 'A' }, at: '2026-01-01T00:00:00.000Z' } } };

describe('SharedShape', () => {
  it('is shared while it has subscribers and forgotten with the last one', () => {
    const args = { schema, document };
    const first = SharedShape.acquire(args, 'unit-shape');
    expect(SharedShape.acquire(args, 'unit-shape')).toBe(first);
    first.release();
    expect(SharedShape.acquire(args, 'unit-shape')).toBe(first);
    first.release();
    first.release();
    const next = SharedShape.acquire(args, 'unit-shape');
    expect(next).not.toBe(first);
    next.release();
  });

  it('executes an event once, whichever subscriber asks', () => {
    const shape = SharedShape.acquire({ schema, document, contextValue: { directDelivery: { takeStream: () => undefined } } }, 'unit-once');
    const result = shape.resultFor(event);
    // The event's own result, executed without errors: not merely the same object twice.
    expect(result).toEqual(executed);
    expect(shape.resultFor(event)).toBe(result);
    const copy = shape.resultFor({ ...event });
    expect(copy).not.toBe(result);
    expect(copy).toEqual(executed);
    // The transport hook of the subscriber who came first is not part of what is shared.
    expect(shape.args.contextValue).toEqual({});
    shape.release();
  });
});
