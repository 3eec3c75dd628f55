/**
 * What the GraphQL layer adds to one sendMessage, in process and without sockets: the same mutation
 *   (a) as a direct call of the domain service,
 *   (b) through graphql-js `execute` on a pre-parsed document (resolvers, argument coercion, result completion),
 *   (c) through Yoga's envelop as the WebSocket edge runs it (`getEnveloped`, cached parse and validate, context
 *       factory, execute with every plugin of the app),
 * over the memory backend (or a redis-server started here with --redis), N calls each, alternating, best of R
 * rounds. `--root DIR` measures another checkout (as in profile-send.ts), for before/after.
 *
 *   node --import tsx scripts/profile-execute.ts [--calls 20000] [--rounds 5] [--redis] [--root DIR]
 *
 * (c) minus (b) is what envelop and Yoga's plugins cost per call; (b) minus (a) is graphql-js's own execution.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execute, parse } from 'graphql';
import type { Viewer } from '../src/chat/types.ts';

const root = resolve(
  process.argv.includes('--root')
    ? (process.argv[process.argv.indexOf('--root') + 1] as string)
    : fileURLToPath(new URL('..', import.meta.url)),
);
const load = <T>(path: string) => import(resolve(root, path)) as Promise<T>;
const { createAdapters } = await load<typeof import('../src/adapters/index.ts')>('src/adapters/index.ts');
const { createChat } = await load<typeof import('../src/chat/index.ts')>('src/chat/index.ts');
const { silentLogger } = await load<typeof import('../src/chat/logger.ts')>('src/chat/logger.ts');
const { loadConfig } = await load<typeof import('../src/config.ts')>('src/config.ts');
const { createTokenVerifier } = await load<typeof import('../src/auth/token-verifier.ts')>('src/auth/token-verifier.ts');
const { useSharedSubscriptionExecution } =
  await load<typeof import('../src/graphql/shared-execution.ts')>('src/graphql/shared-execution.ts');
const { useSubscriptionTokenExpiry } = await load<typeof import('../src/graphql/subscription-expiry.ts')>(
  'src/graphql/subscription-expiry.ts',
);
const { createChatSchema } = await load<typeof import('../src/graphql/schema.ts')>('src/graphql/schema.ts');
const { maskResult } = await load<typeof import('../src/graphql/errors.ts')>('src/graphql/errors.ts');
const { CHAT_DELIVERY_POLICY, createDeliveryEngine } = await load<typeof import('../src/delivery/engine.ts')>('src/delivery/engine.ts');
const { createDocuments } = await load<typeof import('../src/documents/index.ts')>('src/documents/index.ts');
const { createYogaServer } = await load<typeof import('../src/graphql/yoga.ts')>('src/graphql/yoga.ts');

async function startRedis(): Promise<{ url: string; stop(): void }> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  probe.close();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  process.once('exit', () => child.kill('SIGKILL'));
  for (let attempt = 0; attempt < 100; attempt++) {
    const cli = spawn('redis-cli', ['-p', String(port), 'PING']);
    const [code] = await once(cli, 'exit');
    if (code === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') };
}

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const calls = arg('calls', 20_000);
const rounds = arg('rounds', 5);

const SEND =
  'mutation Send($roomId: ID!, $body: String!, $clientMessageId: ID) { sendMessage(roomId: $roomId, body: $body, clientMessageId: $clientMessageId) { id sentAt } }';

const redis = process.argv.includes('--redis') ? await startRedis() : null;
const config = loadConfig({
  NODE_ENV: 'production',
  JWT_SECRET: 'x'.repeat(32),
  MESSAGE_RATE: '1000000000',
  ...(redis ? { REDIS_URL: redis.url } : {}),
});
const adapters = await createAdapters(config, silentLogger);
const chat = createChat({ adapters, logger: silentLogger });
const viewer: Viewer = { id: 'alice', name: 'Alice', roles: [], expiresAt: Date.now() + 3_600_000 };
const room = await chat.rooms.create(viewer, { name: 'profile' });
const schema = createChatSchema();
const documents = createDocuments({ adapters, rooms: chat.rooms, presence: chat.presence, logger: silentLogger });
const yoga = createYogaServer({
  schema,
  context: {
    chat,
    documents,
    stats: { snapshot: async () => Promise.reject(new Error('unused')) },
    dashboard: {
      subscribe: () => {
        throw new Error('unused');
      },
    },
  },
  verifier: await createTokenVerifier(config.auth),
  logger: silentLogger,
  production: true,
  limits: { maxDepth: 10, maxAliases: 15, maxTokens: 1_000, maxDirectives: 50, maxCost: 5_000, introspection: false },
  maxRequestBodyBytes: 1 << 20,
  // The app's own plugins that run on a mutation (the SSE accounting plugin only acts on HTTP requests).
  plugins: [
    useSharedSubscriptionExecution(createDeliveryEngine({ schema, mask: maskResult, policy: CHAT_DELIVERY_POLICY })),
    useSubscriptionTokenExpiry(),
    { onExecutionResult() {} },
  ],
});
const document = parse(SEND);
let n = 0;
const variables = () => ({ roomId: room.id, body: `message ${++n}`, clientMessageId: `c${n}` });

const paths: Record<string, () => Promise<unknown>> = {
  'a direct service call': () => chat.messages.send(viewer, variables()),
  'b graphql-js execute': async () => {
    const result = await execute({
      schema: yoga.getEnveloped().schema,
      document,
      variableValues: variables(),
      contextValue: { chat, viewer },
    });
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
const backend = redis ? 'redis' : 'memory';
for (const [name, us] of Object.entries(best))
  console.log(`${backend} ${root} | ${name.padEnd(34)} ${us.toFixed(1)} µs CPU per call (best of ${rounds} x ${calls})`);
await chat.close();
redis?.stop();
