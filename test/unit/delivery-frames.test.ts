import { randomUUID } from 'node:crypto';
import { MessageType, stringifyMessage } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import { FrameBuilder, nextFramePrefix } from '../../src/delivery/frames.ts';

describe('FrameBuilder', () => {
  it('serializes a shared payload once; random operation ids cost a concatenation each (pitfalls §26)', () => {
    let serialized = 0;
    const result = { data: { roomEvents: { __typename: 'MessageSent', body: 'quote " emoji 😀', toJSON: undefined as unknown } } };
    result.data.roomEvents.toJSON = function (this: object) {
      serialized += 1;
      return { __typename: 'MessageSent', body: 'quote " emoji 😀' };
    };
    const frames = new FrameBuilder({ maxSharedPrefixes: 4 });
    const ids = Array.from({ length: 100 }, () => randomUUID());
    const built = ids.map((id) => String(frames.next(nextFramePrefix(id), result)));
    expect(serialized).toBe(1);
    // Byte for byte what graphql-ws writes for the same message.
    expect(built).toEqual(ids.map((id) => stringifyMessage({ id, type: MessageType.Next, payload: result })));
  });

  it('keeps at most `maxSharedPrefixes` encoded frames per result: repeated ids share one Buffer, random ids none', () => {
    const frames = new FrameBuilder({ maxSharedPrefixes: 2 });
    const result = { data: { n: 1 } };
    const one = frames.next(nextFramePrefix('1'), result);
    expect(Buffer.isBuffer(one)).toBe(true);
    expect(frames.next(nextFramePrefix('1'), result)).toBe(one);
    expect(Buffer.isBuffer(frames.next(nextFramePrefix('2'), result))).toBe(true);
    expect(typeof frames.next(nextFramePrefix('3'), result)).toBe('string');
    expect(typeof frames.next(nextFramePrefix(randomUUID()), result)).toBe('string');
  });
});
