import fc from 'fast-check';
import { unsignedToken, signTestToken } from '../../utils/tokens.ts';
import { operationArb, type DocumentWorld, type GeneratedOperation } from './documents.ts';

/** Which token a connection_init carries: valid most of the time, so the fuzz gets past auth. */
export type TokenKind = 'valid' | 'expired' | 'wrong-secret' | 'unsigned' | 'garbage' | 'none' | 'not-bearer';

/** One thing a fuzz connection does. Printed as the counterexample, so each says plainly what went on the wire. */
export type Action =
  | { do: 'init'; token: TokenKind; user: number; payloadShape: 'authorization' | 'bare-string' | 'array' | 'null' | 'extra-keys' }
  | { do: 'subscribe'; id: string; operation: GeneratedOperation }
  /** A well-formed sendMessage: hostile-but-valid traffic that must be stored (the ledger checks it). */
  | { do: 'send'; id: string; room: number; body: string; clientMessageId: string | null }
  /** A well-formed roomEvents subscription (it stays open: what a later duplicate id collides with). */
  | { do: 'watch'; id: string; room: number; after: boolean; full: boolean | null | 'omitted' }
  /** The id of the previous subscribe, watch or send again (4409 while that one runs). */
  | { do: 'duplicate'; what: 'watch' | 'query' }
  | { do: 'subscribe-odd'; id: unknown; payload: unknown }
  | { do: 'complete'; id: unknown }
  | { do: 'ping' | 'pong'; payload: unknown }
  | { do: 'unknown-type'; type: unknown; extra: unknown }
  | { do: 'json'; value: unknown }
  | { do: 'text'; text: string }
  | { do: 'huge'; delta: number }
  | { do: 'binary'; bytes: Uint8Array }
  | { do: 'control'; opcode: 0x9 | 0xa; payload: string }
  | { do: 'bad-frame'; kind: 'unmasked' | 'reserved-opcode' | 'rsv-bits' | 'fragment-no-end' | 'partial' | 'oversized-control' }
  | { do: 'burst'; count: number }
  | { do: 'wait'; ms: number };

/** How the connection ends. */
export type Ending = { end: 'close'; code: number; reason: string } | { end: 'reset' } | { end: 'fin' } | { end: 'linger' };

export interface ConnectionScript {
  /** Starts with a valid connection_init (most do), so what follows reaches execution instead of 4401. */
  greet: boolean;
  answerClose: boolean;
  actions: Action[];
  ending: Ending;
}

/** Operation ids: short, reused (duplicates), very long (past the 123-byte close reason), unicode. */
export const idArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('1', '2', '3', 'a') },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 60, max: 600 }).map((n) => 'é'.repeat(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 124, max: 2_000 }).map((n) => 'x'.repeat(n)) },
);

const shapeArb = fc.jsonValue({ maxDepth: 3 });

export function actionArb(world: DocumentWorld): fc.Arbitrary<Action> {
  return fc.oneof(
    {
      weight: 1,
      arbitrary: fc.record({
        do: fc.constant('init' as const),
        token: fc.constantFrom<TokenKind>(
          'valid',
          'valid',
          'valid',
          'valid',
          'expired',
          'wrong-secret',
          'unsigned',
          'garbage',
          'none',
          'not-bearer',
        ),
        user: fc.nat(2),
        payloadShape: fc.constantFrom(
          'authorization',
          'authorization',
          'authorization',
          'bare-string',
          'array',
          'null',
          'extra-keys',
        ) as fc.Arbitrary<Extract<Action, { do: 'init' }>['payloadShape']>,
      }),
    },
    { weight: 8, arbitrary: fc.record({ do: fc.constant('subscribe' as const), id: idArb, operation: operationArb(world) }) },
    {
      weight: 4,
      arbitrary: fc.record({
        do: fc.constant('send' as const),
        id: idArb,
        room: fc.nat(world.roomIds.length - 1),
        body: fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 })),
        clientMessageId: fc.option(fc.oneof(fc.constantFrom('dup-1', 'dup-2'), fc.string({ minLength: 1, maxLength: 20 }))),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        do: fc.constant('watch' as const),
        id: idArb,
        room: fc.nat(world.roomIds.length - 1),
        after: fc.boolean(),
        full: fc.constantFrom<boolean | null | 'omitted'>('omitted', null, true, false),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ do: fc.constant('duplicate' as const), what: fc.constantFrom('watch' as const, 'query' as const) }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        do: fc.constant('subscribe-odd' as const),
        id: fc.oneof(idArb, shapeArb),
        payload: fc.oneof(shapeArb, fc.record({ query: fc.oneof(fc.string(), shapeArb), variables: shapeArb }, { requiredKeys: [] })),
      }),
    },
    { weight: 3, arbitrary: fc.record({ do: fc.constant('complete' as const), id: fc.oneof(idArb, idArb, shapeArb) }) },
    {
      weight: 1,
      arbitrary: fc.record({ do: fc.constantFrom('ping' as const, 'pong' as const), payload: fc.option(shapeArb, { nil: undefined }) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        do: fc.constant('unknown-type' as const),
        type: fc.oneof(
          fc.constantFrom('next', 'error', 'connection_ack', 'start', 'stop', 'connection_terminate', 'ka', ''),
          fc.string(),
          shapeArb,
        ),
        extra: shapeArb,
      }),
    },
    { weight: 1, arbitrary: fc.record({ do: fc.constant('json' as const), value: shapeArb }) },
    {
      weight: 1,
      arbitrary: fc.record({
        do: fc.constant('text' as const),
        text: fc.oneof(fc.string(), fc.constantFrom('{', '{"type":', 'null', '[]', '"x"', '\u0000')),
      }),
    },
    { weight: 1, arbitrary: fc.record({ do: fc.constant('huge' as const), delta: fc.integer({ min: -64, max: 64 }) }) },
    { weight: 1, arbitrary: fc.record({ do: fc.constant('binary' as const), bytes: fc.uint8Array({ maxLength: 64 }) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        do: fc.constant('control' as const),
        opcode: fc.constantFrom(0x9 as const, 0xa as const),
        payload: fc.string({ maxLength: 20 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        do: fc.constant('bad-frame' as const),
        kind: fc.constantFrom('unmasked', 'reserved-opcode', 'rsv-bits', 'fragment-no-end', 'partial', 'oversized-control') as fc.Arbitrary<
          Extract<Action, { do: 'bad-frame' }>['kind']
        >,
      }),
    },
    { weight: 1, arbitrary: fc.record({ do: fc.constant('burst' as const), count: fc.integer({ min: 5, max: 150 }) }) },
    { weight: 2, arbitrary: fc.record({ do: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 60 }) }) },
  );
}

export const endingArb: fc.Arbitrary<Ending> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      end: fc.constant('close' as const),
      code: fc.constantFrom(1000, 1001, 1000, 4000, 4999, 3000),
      reason: fc.oneof(fc.constant(''), fc.string({ maxLength: 30 })),
    }),
  },
  { weight: 3, arbitrary: fc.constant({ end: 'reset' as const }) },
  { weight: 1, arbitrary: fc.constant({ end: 'fin' as const }) },
  { weight: 1, arbitrary: fc.constant({ end: 'linger' as const }) },
);

export function scriptArb(world: DocumentWorld): fc.Arbitrary<ConnectionScript> {
  return fc.record({
    greet: fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    answerClose: fc.boolean(),
    actions: fc.array(actionArb(world), { minLength: 1, maxLength: 12 }),
    ending: endingArb,
  });
}

/** The token an init action sends, signed now (expiry is relative to now). */
export async function tokenFor(kind: TokenKind, userId: string, name: string, roles: string[] = []): Promise<string | null> {
  const claims = { sub: userId, name, ...(roles.length ? { roles } : {}) };
  switch (kind) {
    case 'valid':
      return `Bearer ${await signTestToken(claims)}`;
    case 'expired':
      return `Bearer ${await signTestToken(claims, { expiresIn: Math.floor(Date.now() / 1000) - 60 })}`;
    case 'wrong-secret':
      return `Bearer ${await signTestToken(claims, { secret: 'another-secret-0123456789abcdef0123456789' })}`;
    case 'unsigned':
      return `Bearer ${unsignedToken(claims)}`;
    case 'garbage':
      return 'Bearer eyJ.garbage.💥';
    case 'not-bearer':
      return await signTestToken(claims);
    case 'none':
      return null;
  }
}
