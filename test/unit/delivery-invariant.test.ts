import {
  defaultFieldResolver,
  execute,
  getNamedType,
  isAbstractType,
  isInterfaceType,
  isLeafType,
  isObjectType,
  parse,
  printSchema,
  type ExecutionResult,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';
import { createSchema } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../src/chat/event-queue.ts';
import type { Room, RoomEvent, UserEvent, Viewer } from '../../src/chat/types.ts';
import type { DocumentEvent } from '../../src/documents/types.ts';
import { CHAT_DELIVERY_POLICY, createDeliveryEngine, type DeliveryPolicy } from '../../src/delivery/engine.ts';
import { maskResult } from '../../src/graphql/errors.ts';
import type { DashboardEventModel, ServerStatsSnapshot } from '../../src/graphql/mappers.ts';
import { resolvers } from '../../src/graphql/resolvers/index.ts';
import { createChatSchema } from '../../src/graphql/schema.ts';

/*
 * The delivery engine shares one execution per event between subscribers of a shape, with no context at all. That
 * is right only while no resolver reachable from the subscription roots reads the context (the viewer), other than
 * the fields listed in `policy.perViewerFields`, which make an operation per-subscriber. Two checks, neither of
 * which a resolver can pass by accident:
 * - dynamic: every resolver reachable from the roots runs, against realistic events of every RoomEvent member,
 *   with a context (and per-subscriber parts of `info`, and root arguments) that are Proxies recording every access.
 *   Coverage is asserted too: a field or union member that no event reaches fails the test instead of going unseen;
 * - static: every resolver of a reachable type that declares a third parameter (or rest parameters, or reads
 *   `arguments`) must be listed, even when this run did not make it read anything.
 */

const at = '2026-01-01T00:00:00.000Z';
const user = { id: 'alice', name: 'Alice' };
const DASHBOARD_TOTALS: ServerStatsSnapshot = {
  at,
  instances: 1,
  connections: 2,
  subscriptions: 3,
  messagesPerSecond: 1.5,
  deliveriesPerSecond: 2.5,
};
const DASHBOARD_INSTANCE = {
  id: 'i1',
  connections: 2,
  subscriptions: 3,
  messagesPerSecond: 1.5,
  deliveriesPerSecond: 2.5,
  eventLoopLagMs: 1.2,
  rssBytes: 5e7,
};
const DASHBOARD_ROOM = { roomId: 'r', name: 'general', online: 2, messagesPerSecond: 0.3 };
/** Realistic root values for each subscription root field: every RoomEvent and DocumentEvent member, with optional fields set and unset. */
const SAMPLES: Record<string, readonly unknown[]> = {
  roomEvents: [
    {
      kind: 'message',
      roomId: 'r',
      message: { id: 'r:1', roomId: 'r', seq: 1, author: user, body: 'hi', sentAt: at, clientMessageId: 'c1' },
    },
    {
      kind: 'message',
      roomId: 'r',
      message: { id: 'r:2', roomId: 'r', seq: 2, author: user, body: 'hi', sentAt: at, clientMessageId: null },
    },
    { kind: 'joined', roomId: 'r', user, at },
    { kind: 'left', roomId: 'r', user, at },
    { kind: 'typing', roomId: 'r', user, typing: true, at },
  ] satisfies RoomEvent[],
  documentEvents: [
    { kind: 'edited', edit: { documentId: 'd', version: 1, operation: [2, 'hé🙂', { d: 1 }], author: user, clientEditId: 'e1', at } },
    { kind: 'edited', edit: { documentId: 'd', version: 2, operation: [], author: user, clientEditId: null, at } },
    { kind: 'editorJoined', documentId: 'd', user, at },
    { kind: 'editorLeft', documentId: 'd', user, at },
    { kind: 'cursor', documentId: 'd', user, version: 2, anchor: 1, head: 4, at },
  ] satisfies DocumentEvent[],
  userEvents: [
    {
      kind: 'roomAvailable',
      room: { id: 'r', name: 'general', private: false, createdAt: at, createdBy: 'bob', members: [] } satisfies Room,
      at,
    },
    {
      kind: 'mentioned',
      message: { id: 'r:3', roomId: 'r', seq: 3, author: user, body: 'hi @bob', sentAt: at, clientMessageId: null },
      at,
    },
  ] satisfies UserEvent[],
  serverStats: [
    {
      at,
      instances: 1,
      connections: 2,
      subscriptions: 3,
      messagesPerSecond: 1.5,
      deliveriesPerSecond: 2.5,
    } as unknown as ServerStatsSnapshot,
  ],
  dashboard: [
    { kind: 'snapshot', at, totals: DASHBOARD_TOTALS, instances: [DASHBOARD_INSTANCE], rooms: [DASHBOARD_ROOM] },
    {
      kind: 'delta',
      at,
      totals: DASHBOARD_TOTALS,
      instances: [DASHBOARD_INSTANCE],
      rooms: [DASHBOARD_ROOM],
      removedInstances: ['i2'],
      removedRooms: ['r2'],
    },
  ] satisfies DashboardEventModel[],
};

/** `info` properties that differ between subscribers of one shape: reading one is reading the subscriber. */
const PER_SUBSCRIBER_INFO = new Set(['variableValues', 'operation', 'fragments']);

const recorder = (record: (what: string) => void) =>
  new Proxy(Object.create(null) as object, {
    get: (_target, key) => (record(`context.${String(key)}`), undefined),
    has: (_target, key) => (record(`context has ${String(key)}`), false),
    ownKeys: () => (record('context keys'), []),
    getOwnPropertyDescriptor: (_target, key) => (record(`context.${String(key)}`), undefined),
    set: (_target, key) => (record(`context.${String(key)} =`), true),
    defineProperty: (_target, key) => (record(`context.${String(key)} =`), true),
    deleteProperty: (_target, key) => (record(`delete context.${String(key)}`), true),
    getPrototypeOf: () => (record('context prototype'), null),
  });

/** Every named type reachable from the subscription roots, through fields, union members and implementations. */
function reachableTypes(schema: GraphQLSchema, through: (label: string) => boolean = () => true): Map<string, GraphQLNamedType> {
  const found = new Map<string, GraphQLNamedType>();
  const visit = (type: GraphQLNamedType) => {
    if (found.has(type.name)) return;
    found.set(type.name, type);
    if (isAbstractType(type)) for (const member of schema.getPossibleTypes(type)) visit(member);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) if (through(`${type.name}.${field.name}`)) visit(getNamedType(field.type));
      for (const iface of type.getInterfaces()) visit(iface);
    }
  };
  const root = schema.getSubscriptionType();
  if (!root) throw new Error('no Subscription type');
  for (const field of Object.values(root.getFields())) visit(getNamedType(field.type));
  return found;
}

const literalFor = (field: GraphQLField<unknown, unknown>) =>
  field.args
    .filter((arg) => arg.type.toString().endsWith('!') && arg.defaultValue === undefined)
    .map(
      (arg) =>
        `${arg.name}: ${({ ID: '"x"', String: '"x"', Int: '1', Float: '1', Boolean: 'true' } as Record<string, string>)[getNamedType(arg.type).name] ?? '"x"'}`,
    )
    .join(', ');

/** A selection of everything below `type`; a type already on the path is cut to `__typename`. */
function selectAll(schema: GraphQLSchema, type: GraphQLNamedType, path: string[] = []): string {
  if (isLeafType(type)) return '';
  if (path.includes(type.name)) return '{ __typename }';
  const inner = [...path, type.name];
  const parts = ['__typename'];
  if (isObjectType(type) || isInterfaceType(type)) {
    for (const field of Object.values(type.getFields())) {
      const args = literalFor(field);
      parts.push(`${field.name}${args ? `(${args})` : ''} ${selectAll(schema, getNamedType(field.type), inner)}`);
    }
  }
  if (isAbstractType(type))
    for (const member of schema.getPossibleTypes(type)) parts.push(`... on ${member.name} ${selectAll(schema, member, inner)}`);
  return `{ ${parts.join(' ')} }`;
}

interface Report {
  /** `Type.field` -> what it read of the context, per-subscriber info, or (roots) arguments outside `keyArgs`. */
  reads: Map<string, Set<string>>;
  /** Resolvers (and type resolvers) that ran. */
  ran: Set<string>;
  /** Every field and abstract type's `__resolveType` reachable from the roots. */
  reachable: Set<string>;
  errors: string[];
}

/** Runs every resolver reachable from the roots with recording proxies (on a copy of the schema's resolvers). */
async function recordReads(schema: GraphQLSchema, policy: DeliveryPolicy, samples = SAMPLES): Promise<Report> {
  const report: Report = { reads: new Map(), ran: new Set(), reachable: new Set(), errors: [] };
  const record = (label: string) => (what: string) => {
    if (!report.reads.has(label)) report.reads.set(label, new Set());
    report.reads.get(label)!.add(what);
  };
  const types = reachableTypes(schema);
  // Coverage is asserted above listed per-viewer fields only: they run with a subscriber's context, never this
  // recorder, so what lies only below them (a Room's presence and documents) cannot run here.
  const covered = reachableTypes(schema, (label) => !policy.perViewerFields.includes(label));
  const root = schema.getSubscriptionType()!;
  for (const type of [root, ...types.values()]) {
    if (isAbstractType(type)) {
      const label = `${type.name}.__resolveType`;
      if (covered.has(type.name)) report.reachable.add(label);
      const original = type.resolveType;
      type.resolveType = (value, _context, info, abstract) => {
        report.ran.add(label);
        return original?.(value, recorder(record(label)), info, abstract);
      };
    }
    if (!isObjectType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      const label = `${type.name}.${field.name}`;
      if (type === root || covered.has(type.name)) report.reachable.add(label);
      const original = field.resolve ?? defaultFieldResolver;
      const keyArgs = type === root ? (policy.sharedRoots[field.name]?.keyArgs ?? []) : null;
      field.resolve = (source, args, _context, info) => {
        report.ran.add(label);
        const infoProxy = new Proxy(info, {
          get: (target, key, receiver) => {
            if (PER_SUBSCRIBER_INFO.has(String(key))) record(label)(`info.${String(key)}`);
            return Reflect.get(target, key, receiver);
          },
        });
        // A root's `resolve` may read only the arguments in the shape key; below the root, arguments are in it.
        const argsProxy = keyArgs
          ? new Proxy(args, {
              get: (target, key, receiver) => {
                if (typeof key === 'string' && !keyArgs.includes(key)) record(label)(`args.${key}`);
                return Reflect.get(target, key, receiver);
              },
            })
          : args;
        return original(source, argsProxy, recorder(record(label)), infoProxy);
      };
    }
  }
  for (const field of Object.values(root.getFields())) {
    const events = samples[field.name];
    if (!events?.length) {
      report.errors.push(`no realistic events for Subscription.${field.name}`);
      continue;
    }
    const args = literalFor(field);
    const document = parse(`subscription { ${field.name}${args ? `(${args})` : ''} ${selectAll(schema, getNamedType(field.type))} }`);
    for (const event of events) {
      const result = (await execute({
        schema,
        document,
        rootValue: event,
        contextValue: recorder(record('(execution)')),
      })) as ExecutionResult;
      // A listed per-viewer field runs with the subscriber's own context, never this recorder: its failure here is
      // expected (it read the context, which is recorded above); any other error is not.
      const listed = new Set(policy.perViewerFields);
      for (const error of result.errors ?? []) {
        const at = error.path ? `${typeNameAt(schema, field.name, error.path)}.${String(error.path.at(-1))}` : '';
        if (!listed.has(at)) report.errors.push(`${field.name}: ${error.message}`);
      }
    }
  }
  return report;
}

/** The parent type of the field at `path` (a result path from root field `rootName`), through lists and unions. */
function typeNameAt(schema: GraphQLSchema, rootName: string, path: ReadonlyArray<string | number>): string {
  let type: GraphQLNamedType = schema.getSubscriptionType()!;
  for (const key of path.slice(0, -1)) {
    if (typeof key === 'number') continue;
    const parent: GraphQLNamedType = type;
    const owner: GraphQLNamedType | undefined = isAbstractType(parent)
      ? schema.getPossibleTypes(parent).find((member) => key in member.getFields())
      : parent;
    if (!owner || !isObjectType(owner)) return '';
    type = getNamedType(owner.getFields()[key]!.type);
  }
  return type.name;
}

/** Parameters a function declares, read from its source: `(a, b, { viewer })` is 3 whatever its defaults. */
function declaredParameters(fn: (...args: never[]) => unknown): { count: number; rest: boolean; usesArguments: boolean } {
  const text = fn.toString().replace(/^async\s+/, '');
  const usesArguments = /\barguments\b/.test(text);
  const open = text.indexOf('(');
  const arrow = text.indexOf('=>');
  // `x => ...`: one parameter, no parentheses.
  if (arrow >= 0 && (open < 0 || arrow < open)) return { count: 1, rest: false, usesArguments };
  let depth = 0;
  let count = 0;
  let current = '';
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i]!;
    if (depth === 0 && c === ')') break;
    if ('([{'.includes(c)) depth += 1;
    if (')]}'.includes(c)) depth -= 1;
    if (depth === 0 && c === ',') {
      if (current.trim()) count += 1;
      current = '';
    } else current += c;
  }
  if (current.trim()) count += 1;
  return { count, rest: text.slice(open, text.indexOf(')', open)).includes('...'), usesArguments };
}

type ResolverMap = Record<string, unknown>;

/** Resolvers in `map` of types reachable from the roots that could read the context, and are not listed. */
function unlistedContextParameters(schema: GraphQLSchema, map: ResolverMap, policy: DeliveryPolicy): string[] {
  const listed = new Set(policy.perViewerFields);
  const reachable = reachableTypes(schema);
  const offenders: string[] = [];
  for (const [typeName, fields] of Object.entries(map)) {
    const isRoot = typeName === schema.getSubscriptionType()?.name;
    if (!isRoot && !reachable.has(typeName)) continue;
    if (
      typeof fields !== 'object' ||
      fields === null ||
      !Object.getPrototypeOf(fields) ||
      Object.getPrototypeOf(fields) !== Object.prototype
    )
      continue;
    for (const [name, value] of Object.entries(fields as Record<string, unknown>)) {
      // A root's `subscribe` runs per subscriber by design; only what runs per event is shared.
      const resolve = typeof value === 'function' ? value : (value as { resolve?: unknown } | null)?.resolve;
      if (typeof resolve !== 'function') continue;
      const { count, rest, usesArguments } = declaredParameters(resolve as (...args: never[]) => unknown);
      const contextAt = name === '__resolveType' || name === '__isTypeOf' ? 2 : 3;
      if ((count >= contextAt || rest || usesArguments) && !listed.has(`${typeName}.${name}`)) offenders.push(`${typeName}.${name}`);
    }
  }
  return offenders;
}

/** The chat schema plus a `Message.seenByViewer` that reads the viewer: what a careless change would add. */
function schemaWithPerViewerField(extra: ResolverMap = {}) {
  const seenByViewer = (message: { author: { id: string } }, _args: unknown, context: { viewer?: Viewer | null }) =>
    context.viewer?.id === message.author.id;
  const map = { ...resolvers, Message: { seenByViewer }, ...extra } as ResolverMap;
  const schema = createSchema({
    typeDefs: [printSchema(createChatSchema()), 'extend type Message { seenByViewer: Boolean! }'],
    resolvers: map as never,
  });
  return { schema, map };
}

describe('delivery invariant: nothing reachable from the subscription roots reads the viewer unless listed', () => {
  it('no resolver reachable from any subscription root reads the context, per-subscriber info or unkeyed root arguments', async () => {
    const report = await recordReads(createChatSchema(), CHAT_DELIVERY_POLICY);
    expect(report.errors).toEqual([]);
    const listed = new Set(CHAT_DELIVERY_POLICY.perViewerFields);
    const unlisted = [...report.reads].filter(([label]) => !listed.has(label)).map(([label, what]) => `${label}: ${[...what].join(', ')}`);
    expect(unlisted).toEqual([]);
    // Every reachable field and type resolver ran: a field or union member no event reaches would go unchecked.
    expect([...report.reachable].filter((label) => !report.ran.has(label))).toEqual([]);
  });

  it('no resolver of a reachable type declares a context parameter unless listed', () => {
    expect(unlistedContextParameters(createChatSchema(), resolvers as ResolverMap, CHAT_DELIVERY_POLICY)).toEqual([]);
  });

  it('catches a field that reads the viewer, however it reads it (the checks above are not vacuous)', async () => {
    const { schema, map } = schemaWithPerViewerField();
    const report = await recordReads(schema, CHAT_DELIVERY_POLICY);
    expect([...(report.reads.get('Message.seenByViewer') ?? [])]).toEqual(['context.viewer']);
    expect(unlistedContextParameters(schema, map, CHAT_DELIVERY_POLICY)).toEqual(['Message.seenByViewer']);

    const sneaky = {
      User: {
        // Rest parameters, `arguments`, and `info.variableValues`: each is a read of the subscriber.
        name: (...all: unknown[]) => String((all[2] as { viewer?: unknown }).viewer ?? 'x'),
        id: function (this: unknown, user: { id: string }) {
          return (arguments[2] as { viewer?: { id: string } }).viewer?.id ?? user.id;
        },
      },
      Message: {
        seenByViewer: (_m: unknown, _a: unknown, _c: unknown, info: { variableValues: Record<string, unknown> }) =>
          'me' in info.variableValues,
      },
    };
    const sneakySchema = schemaWithPerViewerField(sneaky);
    const sneakyReport = await recordReads(sneakySchema.schema, CHAT_DELIVERY_POLICY);
    const unlistedReads = [...sneakyReport.reads.keys()].filter((label) => !CHAT_DELIVERY_POLICY.perViewerFields.includes(label));
    expect(unlistedReads.sort()).toEqual(['Message.seenByViewer', 'User.id', 'User.name']);
    expect([...(sneakyReport.reads.get('Message.seenByViewer') ?? [])]).toEqual(['info.variableValues']);
    expect(unlistedContextParameters(sneakySchema.schema, sneakySchema.map, CHAT_DELIVERY_POLICY).sort()).toEqual([
      'Message.seenByViewer',
      'User.id',
      'User.name',
    ]);

    // A root `resolve` that reads an argument outside its key (`after` positions the stream per subscriber).
    const rootReadsAfter = schemaWithPerViewerField({
      Subscription: {
        ...resolvers.Subscription,
        roomEvents: {
          subscribe: (resolvers.Subscription!.roomEvents as { subscribe: unknown }).subscribe,
          resolve: (event: unknown, args: { after?: string }) => (args.after, event),
        },
      },
    });
    const rootReport = await recordReads(rootReadsAfter.schema, CHAT_DELIVERY_POLICY);
    expect([...(rootReport.reads.get('Subscription.roomEvents') ?? [])]).toEqual(['args.after']);
  });

  it('an operation that selects a listed per-viewer field falls back to per-subscriber execution: each viewer gets its own value', async () => {
    const { schema } = schemaWithPerViewerField();
    const policy: DeliveryPolicy = { ...CHAT_DELIVERY_POLICY, perViewerFields: ['Message.seenByViewer'] };
    const engine = createDeliveryEngine({ schema, mask: maskResult, policy });
    const query = `subscription($r: ID!) { roomEvents(roomId: $r) { ... on MessageSent { message { id seenByViewer } } } }`;
    const event = SAMPLES.roomEvents![0] as RoomEvent;
    const results: Record<string, unknown> = {};
    for (const id of ['alice', 'bob']) {
      const queue = new EventQueue();
      const viewer: Viewer = { id, name: id, roles: [], expiresAt: Date.now() + 60_000 };
      let handedOver = false;
      const stream = await engine.subscribe({
        schema,
        document: parse(query),
        variableValues: { r: 'r' },
        contextValue: {
          viewer,
          chat: { roomEvents: { open: async () => queue } },
          directDelivery: { takeStream: () => (handedOver = true) },
        },
      });
      expect(handedOver).toBe(false);
      if (!(Symbol.asyncIterator in stream)) throw new Error(`no stream: ${JSON.stringify(stream)}`);
      queue.push(event);
      results[id] = (await stream.next()).value;
      await stream.return?.();
    }
    expect(results).toEqual({
      alice: { data: { roomEvents: { message: { id: 'r:1', seenByViewer: true } } } },
      bob: { data: { roomEvents: { message: { id: 'r:1', seenByViewer: false } } } },
    });
    expect(engine.liveShapes).toBe(0);
  });
});
