import { describe, expect, it } from 'vitest';
import { MAX_MENTIONS, parseMentions } from '../../src/chat/mentions.ts';

describe('parseMentions: the contract grammar', () => {
  it.each([
    ['@a-b hello', ['a-b']],
    ['hi @a', ['a']],
    ['x@a', []],
    ['mail@u1', []],
    ['.@a', []],
    ['_@a -@a 9@a', []],
    ['(@a) "@b", @c. @d! @e?', ['a', 'b', 'c', 'd', 'e']],
    ['@a.b', ['a']],
    ['@a_b-c9 and @a', ['a_b-c9', 'a']],
    ['@@a', ['a']],
    ['@ a', []],
    ['@', []],
    ['no mention', []],
    ['@josé ça va', ['josé']],
    ['é@a', []],
    ['line\n@a', ['a']],
  ])('%j mentions %j', (body, expected) => {
    expect(parseMentions(body)).toEqual(expected);
  });

  it('several mentions of one user count once, in order of first mention', () => {
    expect(parseMentions('@b @a @b @a @c')).toEqual(['b', 'a', 'c']);
  });

  it(`keeps the first ${MAX_MENTIONS} distinct users and ignores the rest`, () => {
    const ids = Array.from({ length: 25 }, (_, i) => `u${i}`);
    const body = ids.map((id) => `@${id} @${ids[0]}`).join(' ');
    expect(parseMentions(body)).toEqual(ids.slice(0, MAX_MENTIONS));
  });
});
