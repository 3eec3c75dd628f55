/**
 * What the GraphQL layer adds to one sendMessage, in process and without sockets: the same mutation
 *   (a) as a direct call of the domain service,
 *   (b) through graphql-js `execute` on a pre-parsed document (resolvers, argument coercion, result completion),
 *   (c) through Yoga's envelop as the WebSocket edge runs it (`getEnveloped`, cached parse and validate, context
 *       factory, execute with every plugin of the app),
 * over the memory backend, N calls each, alternating, best of R rounds.
 *
 *   node --import tsx scripts/profile-execute.ts [--calls 20000] [--rounds 5]
 *
 * (c) minus (b) is what envelop and Yoga's plugins cost per call; (b) minus (a) is graphql-js's own execution.
 */
import { execute, parse } from 'graphql';
import { createMemoryAdapters } from '../src/adapters/memory/index.ts';
import { createChat } from '../src/chat/index.ts';
import { silentLogger } from '../src/chat/logger.ts';
import type { Viewer } from '../src/chat/types.ts';
import { createTokenVerifier } from '../src/auth/token-verifier.ts';
import { useSharedSubscriptionExecution } from '../src/graphql/shared-execution.ts';
import { useSubscriptionTokenExpiry } from '../src/graphql/subscription-expiry.ts';
import { createYogaServer } from '../src/graphql/yoga.ts';

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const calls = arg('calls', 20_000);
const rounds = arg('rounds', 5);

const SEND = 'mutation Send($roomId: ID!, $body: String!, $clientMessageId: ID) { sendMessage(roomId: $roomId, body: $body, clientMessageId: $clientMessageId) { id sentAt } }';

const adapters = createMemoryAdapters({ logger: silentLogger, historyLimit: 10_000, messageRate: 1e9, messageBurst: 1e9 });
const chat = createChat({ adapters, logger: silentLogger });
const viewer: Viewer = { id: 'alice', name: 'Alice', roles: [], expiresAt: Date.now() + 3_600_000 };
const room = await chat.rooms.create(viewer, { name: 'profile' });
const yoga = createYogaServer({
  context: { chat, stats: { snapshot: () => Promise.reject(new Error('unused')) } },
  verifier: await createTokenVerifier({ kind: 'secret', secret: 'x'.repeat(32), devSecret: false }),
  logger: silentLogger,
  production: true,
  limits: { maxDepth: 10, maxAliases: 15, maxTokens: 1_000, maxDirectives: 50, maxCost: 5_000, introspection: false },
  maxRequestBodyBytes: 1 << 20,
  // The app's own plugins that run on a mutation (the SSE accounting plugin only acts on HTTP requests).
  plugins: [useSharedSubscriptionExecution(), useSubscriptionTokenExpiry(), { onExecutionResult() {} }],
});
const document = parse(SEND);
let n = 0;
const variables = () => ({ roomId: room.id, body: `message ${++n}`, clientMessageId: `c${n}` });

const paths: Record<string, () => Promise<unknown>> = {
  'a direct service call': () => chat.messages.send(viewer, variables()),
  'b graphql-js execute': async () => {
    const result = await execute({ schema: yoga.getEnveloped().schema, document, variableValues: variables(), contextValue: { chat, viewer } });
    if (result.errors) throw result.errors[0];
  },
  'c envelop, as the WebSocket edge': async () => {
    const payload = { query: SEND, variables: variables() };
    const enveloped = yoga.getEnveloped({ params: payload, viewer, transport: 'ws' as const });
    const parsed = enveloped.parse(payload.query);
    if (enveloped.validate(enveloped.schema, parsed).length) throw new Error('invalid');
    const result = await enveloped.execute({
      schema: enveloped.schema,
      document: parsed,
      variableValues: payload.variables,
      contextValue: await enveloped.contextFactory(),
      operationName: null,
    });
    if ('errors' in result && result.errors) throw result.errors[0];
  },
};

const best: Record<string, number> = {};
for (let round = 0; round < rounds; round++) {
  for (const [name, run] of Object.entries(paths)) {
    const started = process.cpuUsage();
    for (let call = 0; call < calls; call++) await run();
    const used = process.cpuUsage(started);
    const perCall = (used.user + used.system) / calls;
    best[name] = Math.min(best[name] ?? Infinity, perCall);
  }
}
for (const [name, us] of Object.entries(best)) console.log(`${name.padEnd(34)} ${us.toFixed(1)} µs CPU per call (best of ${rounds} x ${calls})`);
await chat.close();
