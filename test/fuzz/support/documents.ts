import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  buildSchema,
  getNamedType,
  isLeafType,
  isNonNullType,
  isObjectType,
  isUnionType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
} from 'graphql';

const schema = buildSchema(readFileSync(new URL('../../../schema/chat.graphql', import.meta.url), 'utf8'));

/** What the documents may name: real rooms and users, so most operations reach the resolvers. */
export interface DocumentWorld {
  roomIds: readonly string[];
  userIds: readonly string[];
  /** Message ids seen so far (for `after` / `before`); grows as the fuzz runs. */
  messageIds: readonly string[];
}

export type OperationKind = 'query' | 'mutation' | 'subscription';

/** One generated operation, printable as the counterexample. */
export interface GeneratedOperation {
  kind: OperationKind;
  query: string;
  variables: Record<string, unknown>;
  /** `sendMessage` response keys and the room each was sent to: accepted ones go to the ledger. */
  sends: Array<{ key: string; roomId: string }>;
}

/** A small deterministic PRNG (mulberry32): the document is a pure function of the seed fast-check draws. */
export class Rng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  next(): number {
    let t = (this.#state += 0x6d2b79f5);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  /** Strings a hostile client sends: empty, blank, unicode, control characters, long, JSON-looking. */
  nastyString(maxLength = 64): string {
    switch (this.int(0, 8)) {
      case 0:
        return '';
      case 1:
        return ' \t\n ';
      case 2:
        return '🦄👩‍👩‍👧 ünïcødé 漢字 \u202e rtl';
      case 3:
        return '\u0000\u0001\u001f\u007f';
      case 4:
        return 'x'.repeat(this.int(1, maxLength * 80));
      case 5:
        return '{"type":"next","id":"1"}';
      case 6:
        return '\ud800 lone surrogate';
      default: {
        const length = this.int(1, maxLength);
        let text = '';
        for (let i = 0; i < length; i += 1) text += String.fromCodePoint(this.chance(0.8) ? this.int(0x20, 0x7e) : this.int(0xa0, 0x2fff));
        return text;
      }
    }
  }
}

interface Builder {
  rng: Rng;
  world: DocumentWorld;
  variables: Map<string, { type: string; value: unknown; omitted: boolean }>;
  fragments: string[];
  sends: Array<{ key: string; roomId: string }>;
  aliases: number;
  counter: number;
}

/** A value for an argument of `type`: mostly valid and real, sometimes null, the wrong type or absurd. */
function valueFor(b: Builder, type: GraphQLInputType, argName: string): unknown {
  const { rng, world } = b;
  const named = getNamedType(type).name;
  const roll = rng.next();
  if (roll < 0.03) return null;
  if (roll < 0.06) return rng.pick([42, 1.5, true, 'text', {}, [], { nested: [1] }, -1, 2 ** 31, '']);
  if (type.toString().startsWith('[')) {
    const n = rng.chance(0.1) ? rng.int(0, 60) : rng.int(0, 3);
    return Array.from({ length: n }, () => (rng.chance(0.7) ? rng.pick(world.userIds) : rng.nastyString(20)));
  }
  switch (named) {
    case 'ID':
      if (argName === 'roomId' || argName === 'id') return rng.chance(0.85) ? rng.pick(world.roomIds) : rng.nastyString(40);
      if (argName === 'after' || argName === 'before') {
        if (world.messageIds.length && rng.chance(0.6)) return rng.pick(world.messageIds);
        return rng.pick(['0', '', '9999999999999-0', rng.nastyString(30)]);
      }
      return rng.chance(0.7) ? `c-${rng.int(0, 1e9)}` : rng.nastyString(80);
    case 'String':
      return rng.chance(0.7) ? `fuzz ${rng.int(0, 1e6)} ${rng.nastyString(16)}` : rng.nastyString(rng.pick([16, 64]));
    case 'Int':
      return rng.pick([0, 1, 5, 50, 500, 501, -1, -(2 ** 31), 2 ** 31 - 1, rng.int(-10, 1000)]);
    case 'Boolean':
      return rng.chance(0.5);
    default:
      return rng.nastyString(10);
  }
}

/** `$name` (declared with its type, or a wrong one) or an inline literal. */
function argument(b: Builder, argName: string, type: GraphQLInputType): { text: string; value: unknown } {
  const { rng } = b;
  const value = valueFor(b, type, argName);
  if (rng.chance(0.6)) {
    const name = `v${(b.counter += 1)}`;
    // Mostly the real type; sometimes nullable where non-null is needed, or an unrelated type (validation errors).
    const declared = rng.chance(0.95) ? type.toString() : rng.pick(['String', 'Int', 'ID', 'Boolean!', '[ID]', 'Float']);
    const omitted = rng.chance(0.03);
    b.variables.set(name, { type: declared, value, omitted });
    return { text: `$${name}`, value: omitted ? undefined : value };
  }
  return { text: literal(value), value };
}

function literal(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  if (typeof value === 'object')
    return `{${Object.entries(value)
      .map(([k, v]) => `${k}: ${literal(v)}`)
      .join(', ')}}`;
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

function directives(b: Builder): string {
  const { rng } = b;
  if (!rng.chance(0.15)) return '';
  const name = rng.pick(['include', 'skip']);
  if (rng.chance(0.4)) return ` @${name}(if: ${rng.pick(['true', 'false'])})`;
  const variable = `b${(b.counter += 1)}`;
  const declared = rng.pick(['Boolean!', 'Boolean', 'Boolean = true', 'Boolean! = false']);
  const value = rng.pick([true, false, null, 'yes', 0]);
  b.variables.set(variable, { type: declared, value, omitted: rng.chance(0.25) });
  return ` @${name}(if: $${variable})`;
}

function fieldArguments(
  b: Builder,
  field: GraphQLField<unknown, unknown>,
  skipOptional = false,
): { text: string; values: Record<string, unknown> } {
  const parts: string[] = [];
  const values: Record<string, unknown> = {};
  for (const arg of field.args) {
    const required = isNonNullType(arg.type) && arg.defaultValue === undefined;
    // Leaving out a required argument is a validation error worth sending now and then.
    if (required ? b.rng.chance(0.02) : skipOptional || b.rng.chance(0.4)) continue;
    const { text, value } = argument(b, arg.name, arg.type);
    parts.push(`${arg.name}: ${text}`);
    values[arg.name] = value;
  }
  return { text: parts.length ? `(${parts.join(', ')})` : '', values };
}

function selectionSet(b: Builder, type: GraphQLNamedType, depth: number, mustSelectId = false): string {
  const { rng } = b;
  if (isUnionType(type)) {
    const parts = ['__typename'];
    for (const member of type.getTypes()) {
      if (!rng.chance(0.7)) continue;
      parts.push(
        rng.chance(0.3) ? namedFragment(b, member, depth) : `... on ${member.name}${directives(b)} ${selectionSet(b, member, depth + 1)}`,
      );
    }
    return `{ ${parts.join(' ')} }`;
  }
  if (!isObjectType(type)) return '';
  const fields = Object.values(type.getFields());
  const parts: string[] = mustSelectId ? ['id'] : [];
  const count = rng.int(1, Math.min(4, fields.length));
  for (let i = 0; i < count; i += 1) parts.push(fieldSelection(b, rng.pick(fields), depth));
  if (rng.chance(0.15)) parts.push(`... ${directives(b)} { __typename }`);
  if (rng.chance(0.1)) parts.push(namedFragment(b, type, depth));
  return `{ ${parts.join(' ')} }`;
}

function namedFragment(b: Builder, type: GraphQLObjectType, depth: number): string {
  const name = `F${(b.counter += 1)}`;
  b.fragments.push(`fragment ${name} on ${type.name} ${selectionSet(b, type, depth + 1)}`);
  return `...${name}${directives(b)}`;
}

function fieldSelection(b: Builder, field: GraphQLField<unknown, unknown>, depth: number): string {
  const { rng } = b;
  const alias = rng.chance(0.2) ? `a${(b.aliases += 1)}: ` : '';
  const args = fieldArguments(b, field);
  const named = getNamedType(field.type);
  // Depth is mostly shallow; now and then deep enough for GRAPHQL_MAX_DEPTH to answer.
  const maxDepth = rng.chance(0.05) ? 14 : 4;
  if (isLeafType(named)) return `${alias}${field.name}${args.text}${directives(b)}`;
  if (depth >= maxDepth) return `${alias}__typename`;
  return `${alias}${field.name}${args.text}${directives(b)} ${selectionSet(b, named, depth + 1)}`;
}

const ROOTS: Record<OperationKind, GraphQLObjectType> = {
  query: schema.getQueryType()!,
  mutation: schema.getMutationType()!,
  subscription: schema.getSubscriptionType()!,
};

/** A random operation against the real schema: real fields, fragments, aliases, directives, odd variables. */
export function buildOperation(seed: number, world: DocumentWorld, kind?: OperationKind): GeneratedOperation {
  const rng = new Rng(seed);
  const b: Builder = { rng, world, variables: new Map(), fragments: [], sends: [], aliases: 0, counter: 0 };
  const chosen: OperationKind = kind ?? rng.pick(['query', 'query', 'mutation', 'mutation', 'subscription']);
  const root = ROOTS[chosen];
  const fields = Object.values(root.getFields());
  const rootCount = chosen === 'subscription' ? (rng.chance(0.05) ? 2 : 1) : rng.int(1, 3);
  const parts: string[] = [];
  for (let i = 0; i < rootCount; i += 1) {
    const field = rng.pick(fields);
    const alias = rng.chance(0.3) ? `r${i}` : '';
    const args = fieldArguments(b, field);
    const named = getNamedType(field.type);
    const isSend = field.name === 'sendMessage';
    // sendMessage selects `id` always: the ledger needs it to prove the message was stored.
    const selection = isLeafType(named) ? '' : ` ${selectionSet(b, named, 1, isSend)}`;
    const directive = isSend ? '' : directives(b);
    if (isSend && typeof args.values.roomId === 'string')
      b.sends.push({ key: alias ? `r${i}` : 'sendMessage', roomId: args.values.roomId });
    parts.push(`${alias ? `${alias}: ` : ''}${field.name}${args.text}${directive}${selection}`);
  }
  const declarations = [...b.variables.entries()].map(([name, v]) => `$${name}: ${v.type}`);
  const header = `${chosen} Fuzz${declarations.length ? `(${declarations.join(', ')})` : ''}`;
  const query = [`${header} { ${parts.join(' ')} }`, ...b.fragments].join('\n');
  const variables: Record<string, unknown> = {};
  for (const [name, v] of b.variables) if (!v.omitted) variables[name] = v.value;
  // The same response key twice for one sendMessage would only record one id; keep the last as GraphQL does.
  return { kind: chosen, query, variables, sends: b.sends };
}

/** An arbitrary of operations: fast-check draws the seed, the builder does the rest (printed as the document). */
export function operationArb(world: DocumentWorld, kind?: OperationKind): fc.Arbitrary<GeneratedOperation> {
  return fc.noShrink(fc.integer({ min: 0, max: 0x7fffffff })).map((seed) => buildOperation(seed, world, kind));
}

/** The response keys of accepted sendMessages in `data`, with their ids. */
export function acceptedSends(operation: GeneratedOperation, data: unknown): Array<{ roomId: string; id: string }> {
  if (!data || typeof data !== 'object') return [];
  const out: Array<{ roomId: string; id: string }> = [];
  for (const send of operation.sends) {
    const value = (data as Record<string, unknown>)[send.key];
    if (value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string') {
      out.push({ roomId: send.roomId, id: (value as { id: string }).id });
    }
  }
  return out;
}
