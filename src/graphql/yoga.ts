import { GraphQLError, type GraphQLSchema } from 'graphql';
import { createYoga, type GraphiQLOptions, type Plugin } from 'graphql-yoga';
import { isChatError } from '../chat/errors.ts';
import type { TokenVerifier } from '../auth/token-verifier.ts';
import type { Logger } from '../chat/logger.ts';
import type { Viewer } from '../chat/types.ts';
import type { GraphQLContext, ServerContext, SocketSessionControl } from './context.ts';
import { maskError } from './errors.ts';
import { useSubscriptionRootDirectivesRule } from './subscription-root-rule.ts';
import { createGraphQLLimitPlugins, type GraphQLLimitOptions } from './limits.ts';
import { useRequestBodyLimit } from './body-limit.ts';
import { useValidationCache } from './validation-cache.ts';

export interface YogaOptions {
  /** The chat schema (`createChatSchema`), built once by the composition root and shared with the delivery engine. */
  schema: GraphQLSchema;
  context: ServerContext;
  verifier: TokenVerifier;
  logger: Logger;
  production: boolean;
  /** Envelop plugins (metrics) added by the composition root. */
  plugins?: Array<Plugin | Plugin<GraphQLContext>>;
  /** Query-shape limits and introspection; they apply to HTTP, SSE and WebSocket operations alike. */
  limits: GraphQLLimitOptions;
  /** Larger request bodies get HTTP 413 (by Content-Length, and counted while streaming). */
  maxRequestBodyBytes: number;
}

// The bundled GraphiQL page is 9 MB of inlined assets (no CDN, pitfalls §21), some 30 MB of heap once loaded:
// never loaded in production; elsewhere loaded in the background at start, rendered once on the first view.
let graphiqlModule: Promise<typeof import('@graphql-yoga/render-graphiql')> | undefined;
let graphiqlPage: Promise<string> | undefined;
const loadGraphiQL = () => (graphiqlModule ??= import('@graphql-yoga/render-graphiql'));
const renderGraphiQLOnce = (options: GraphiQLOptions): Promise<string> =>
  (graphiqlPage ??= loadGraphiQL().then(({ renderGraphiQL }) => renderGraphiQL(options)));

/** pino serializes an Error only under `err`; Yoga passes errors positionally. */
const yogaLog = (args: unknown[]) => {
  const err = args.find((arg) => arg instanceof Error);
  const rest = args.filter((arg) => arg !== err);
  return err ? { err, ...(rest.length ? { args: rest } : {}) } : { args };
};

/** Yoga's CORS options (its default: any origin, with credentials), shared with the HTTP lane that applies them too. */
export const YOGA_CORS = Object.freeze({});

export function createYogaServer({
  schema,
  context,
  verifier,
  logger,
  production,
  plugins = [],
  limits,
  maxRequestBodyBytes,
}: YogaOptions) {
  if (!production) void loadGraphiQL();
  const { chat, documents, stats, dashboard } = context;
  // Spelled out: `{ ...context, tokens, viewer }` (a spread, then properties it did not have) costs V8 ~2 us per
  // operation, a literal of one shape nothing (pitfalls §32); the type makes sure every field is here.
  const contextFor = (viewer: Viewer | null): GraphQLContext => ({ chat, documents, stats, dashboard, tokens: verifier, viewer });
  return createYoga<ServerContext & { viewer?: Viewer | null; session?: SocketSessionControl }, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    cors: YOGA_CORS,
    logging: {
      debug: (...args) => logger.debug(yogaLog(args), 'yoga'),
      info: (...args) => logger.info(yogaLog(args), 'yoga'),
      warn: (...args) => logger.warn(yogaLog(args), 'yoga'),
      // Yoga logs every error it masks; a coded domain error is an answer to the client, not a fault here.
      error: (...args) =>
        args.some((arg) => arg instanceof GraphQLError && isChatError(arg.originalError))
          ? logger.debug(yogaLog(args), 'yoga')
          : logger.error(yogaLog(args), 'yoga'),
    },
    // SSE is the one GraphiQL transport that carries the headers editor, Authorization included (pitfalls §15).
    graphiql: production
      ? false
      : {
          title: 'Chat GraphQL',
          subscriptionsProtocol: 'SSE',
          headers: JSON.stringify({ Authorization: 'Bearer <paste the output of: npm run token -- alice Alice>' }),
          defaultQuery: DEFAULT_QUERY,
        },
    renderGraphiQL: renderGraphiQLOnce,
    maskedErrors: { maskError, isDev: !production },
    // Enforced by `useRequestBodyLimit` (last among the plugins), the same rule without Yoga's per-request stream copy.
    maxRequestBodySize: false,
    // Stated although they are Yoga's defaults: a batch of N operations would multiply every per-operation limit.
    batching: false,
    // No Upload scalar in the schema: multipart parsing would only be one more way to send a big body.
    multipart: false,
    plugins: [
      ...createGraphQLLimitPlugins(limits),
      useSubscriptionRootDirectivesRule,
      operationLog(logger),
      ...plugins,
      useRequestBodyLimit(maxRequestBodyBytes),
      useValidationCache(),
    ],
    // Validation results are cached by `useValidationCache`, last among the plugins above, as Yoga's own would be.
    parserAndValidationCache: { validationCache: false },
    context(initial): GraphQLContext | Promise<GraphQLContext> {
      // WebSocket operations arrive with the viewer of their connection_init (and their socket's `session`, which
      // Yoga keeps from the initial context); HTTP and SSE carry a header.
      if (initial.viewer !== undefined) return contextFor(initial.viewer);
      const authorization = initial.request?.headers.get('authorization') ?? undefined;
      // A token seen before is answered without a promise, which Yoga then does not wait for.
      const known = verifier.known(authorization);
      if (known) return contextFor(known.ok ? known.viewer : null);
      return verifier.verify(authorization).then((result) => contextFor(result.ok ? result.viewer : null));
    },
  });
}

export type YogaServer = ReturnType<typeof createYogaServer>;

/** One debug line per HTTP or SSE operation (WebSocket operations are logged by the socket edge, with its ids). */
function operationLog(logger: Logger): Plugin<GraphQLContext> {
  const log = (context: GraphQLContext & { transport?: 'ws'; params?: { operationName?: string } }, kind: string) => {
    if (context.transport === 'ws') return;
    logger.debug({ userId: context.viewer?.id, operationName: context.params?.operationName, kind }, 'http operation');
  };
  return {
    onExecute: ({ args }) => log(args.contextValue, 'execute'),
    onSubscribe: ({ args }) => log(args.contextValue, 'subscribe'),
  };
}

const DEFAULT_QUERY = `# 1. Put a token in the Headers tab below: npm run token -- alice Alice
# 2. Create a room, then subscribe to it here and send messages from a second tab.

mutation CreateRoom {
  createRoom(name: "lobby") { id name }
}

subscription Watch($roomId: ID!) {
  roomEvents(roomId: $roomId) {
    __typename
    ... on MessageSent { message { id author { name } body sentAt } }
    ... on MemberJoined { user { name } at }
    ... on MemberLeft { user { name } at }
    ... on TypingChanged { user { name } typing }
  }
}

mutation Send($roomId: ID!) {
  sendMessage(roomId: $roomId, body: "hello") { id sentAt }
}

query Rooms {
  rooms { id name online { user { name } connections } messages(last: 10) { author { name } body } }
}
`;
