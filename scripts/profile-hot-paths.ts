/**
 * Three per-message costs, in process, each as it was and as it is, alternating, best of R rounds:
 *   (1) the shared execution of one event for the README's Apollo document: graphql-js `execute` vs the compiled
 *       form `CompiledExecution` switches to (`src/delivery/compiled-execution.ts`);
 *   (2) the operation context: `{ ...context, tokens, viewer }` vs the literal `src/graphql/yoga.ts` builds;
 *   (3) the validation cache's key: Yoga's (every rule's name, joined) vs `rulesKey` (`src/graphql/validation-cache.ts`).
 *
 *   node --import tsx scripts/profile-hot-paths.ts [--calls 50000] [--rounds 5]
 *
 * Wall time per call of this process (single-threaded, no I/O), so on a shared machine read the ratios.
 */
import { execute, parse, specifiedRules, type ValidationRule } from 'graphql';
import type { RoomEvent } from '../src/chat/types.ts';
import { CompiledExecution } from '../src/delivery/compiled-execution.ts';
import { rulesKey } from '../src/graphql/validation-cache.ts';
import { createChatSchema } from '../src/graphql/schema.ts';

const argv = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const calls = argv('calls', 50_000);
const rounds = argv('rounds', 5);

const schema = createChatSchema();
const document = parse(
  'subscription Watch($roomId: ID!, $after: ID) { roomEvents(roomId: $roomId, after: $after) { __typename ...RoomEventFields } } ' +
    'fragment RoomEventFields on RoomEvent { ... on MessageSent { message { id roomId body sentAt } } }',
);
const args = { schema, document, operationName: 'Watch', variableValues: { roomId: 'room-000001', after: null } };
const NO_CONTEXT = Object.freeze({});
const event = (i: number): RoomEvent => ({
  kind: 'message',
  roomId: 'room-000001',
  message: {
    id: `room-000001:${i}`,
    roomId: 'room-000001',
    seq: i,
    author: { id: 'bench-s1', name: 'bench-s1' },
    body: `message ${i} from the profile`,
    sentAt: '2026-11-29T00:00:00.000Z',
    clientMessageId: null,
  },
});
const compiled = new CompiledExecution({ compileAfter: 0 });

const context = { chat: {}, stats: {}, documents: {}, dashboard: {} };
const { chat, stats, documents, dashboard } = context;
const tokens = {};
const viewers = Array.from({ length: 64 }, (_, i) => ({ id: `u${i}`, name: `u${i}`, roles: [], expiresAt: 0 }));
const rules: ValidationRule[] = [
  ...specifiedRules,
  ...['maxDepth', 'maxAliases', 'costLimit', 'maxDirectives'].map((name) =>
    Object.defineProperty((() => ({})) as ValidationRule, 'name', { value: name }),
  ),
];

let sink: unknown;
const cases: Record<string, Array<[string, (i: number) => unknown]>> = {
  'shared execution of one event': [
    ['graphql-js execute', (i) => execute({ ...args, contextValue: NO_CONTEXT, rootValue: event(i) })],
    ['compiled (graphql-jit)', (i) => compiled.execute(args, NO_CONTEXT, event(i))],
  ],
  'operation context': [
    ['{ ...context, tokens, viewer }', (i) => ({ ...context, tokens, viewer: viewers[i & 63] })],
    ['literal', (i) => ({ chat, documents, stats, dashboard, tokens, viewer: viewers[i & 63] })],
  ],
  'validation cache key': [
    ["Yoga's: rules.map(name).join(',')", () => rules.map((rule) => rule.name).join(',')],
    ['rulesKey', () => rulesKey([...rules])],
  ],
};

for (const [title, paths] of Object.entries(cases)) {
  const best = paths.map(() => Infinity);
  for (let round = 0; round < rounds; round++) {
    paths.forEach(([, run], index) => {
      const started = process.hrtime.bigint();
      for (let i = 0; i < calls; i++) sink = run(i);
      best[index] = Math.min(best[index]!, Number(process.hrtime.bigint() - started) / calls / 1000);
    });
  }
  console.log(`${title} (best of ${rounds} x ${calls}):`);
  paths.forEach(([name], index) =>
    console.log(`  ${name.padEnd(36)} ${best[index]!.toFixed(3)} µs  (${(best[index]! / best[0]!).toFixed(2)}x)`),
  );
}
void sink;
