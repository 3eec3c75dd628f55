import fc from 'fast-check';
import { specifiedRules, type ValidationRule } from 'graphql';
import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { rulesKey, useValidationCache } from '../../src/graphql/validation-cache.ts';

/** A rule that counts the documents it validates: a new closure per request, as graphql-armor's rules are. */
const countingPlugin = (name: string, counter: { runs: number }): Plugin => ({
  onValidate({ addValidationRule }) {
    const rule: ValidationRule = () => {
      counter.runs += 1;
      return {};
    };
    Object.defineProperty(rule, 'name', { value: name });
    addValidationRule(rule);
  },
});

const schema = createSchema({
  typeDefs: 'type Query { hello(name: String): String }',
  resolvers: { Query: { hello: (_: unknown, { name }: { name?: string }) => `hi ${name}` } },
});

function yogaWith(plugins: Plugin[]) {
  return createYoga({
    schema,
    plugins: [...plugins, useValidationCache()],
    parserAndValidationCache: { validationCache: false },
    logging: false,
  });
}

async function post(yoga: ReturnType<typeof yogaWith>, query: string) {
  const response = await yoga.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: await response.json() };
}

describe('validation cache', () => {
  it('validates a document once, answers its errors again from the cache, and keeps rule lists apart', async () => {
    const counter = { runs: 0 };
    const yoga = yogaWith([countingPlugin('countingRule', counter)]);
    expect(await post(yoga, '{ hello(name: "a") }')).toEqual({ status: 200, body: { data: { hello: 'hi a' } } });
    expect(await post(yoga, '{ hello(name: "a") }')).toEqual({ status: 200, body: { data: { hello: 'hi a' } } });
    expect(counter.runs).toBe(1);
    const invalid = await post(yoga, '{ nope }');
    expect(await post(yoga, '{ nope }')).toEqual(invalid);
    expect(invalid.body.errors[0].message).toContain('Cannot query field "nope"');
    expect(counter.runs).toBe(2);

    // Another app whose rule has another name validates again, as Yoga's cache (keyed by names) would.
    const other = { runs: 0 };
    const second = yogaWith([countingPlugin('otherRule', other)]);
    await post(second, '{ hello(name: "a") }');
    expect(other.runs).toBe(1);
  });

  it('gives two rule lists one key only when their names, which key Yoga’s own cache, are the same', () => {
    const named = (name: string): ValidationRule => Object.defineProperty((() => ({})) as ValidationRule, 'name', { value: name });
    const pool = [...specifiedRules.slice(0, 6), named('A'), named('B'), named('A'), named(specifiedRules[0]!.name)];
    const listArb = fc.tuple(fc.integer({ min: 0, max: specifiedRules.length }), fc.array(fc.constantFrom(...pool), { maxLength: 5 }));
    const build = ([prefix, rest]: [number, ValidationRule[]]) => [...specifiedRules.slice(0, prefix), ...rest];
    const names = (rules: ValidationRule[]) => rules.map((rule) => rule.name).join(',');
    fc.assert(
      fc.property(listArb, listArb, (a, b) => {
        const [one, two] = [build(a), build(b)];
        if (rulesKey(one) === rulesKey(two)) expect(names(one)).toBe(names(two));
        expect(rulesKey(one)).toBe(rulesKey([...one]));
      }),
      { numRuns: 2000 },
    );
  });
});
