import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { GraphQLError } from 'graphql';
import { createYoga, type Plugin } from 'graphql-yoga';
import { isChatError } from '../chat/errors.ts';
import type { TokenVerifier } from '../auth/token-verifier.ts';
import type { Logger } from '../chat/logger.ts';
import type { Viewer } from '../chat/types.ts';
import type { GraphQLContext, ServerContext } from './context.ts';
import { maskError } from './errors.ts';
import { createChatSchema } from './schema.ts';

export interface YogaOptions {
  context: ServerContext;
  verifier: TokenVerifier;
  logger: Logger;
  production: boolean;
  /** Envelop plugins (limits, metrics) added by the composition root. */
  plugins?: Plugin[];
}

// The bundled GraphiQL page is 9 MB of inlined assets (no CDN, PITFALLS 21): render it once.
let graphiqlPage: string | undefined;
const renderGraphiQLOnce: typeof renderGraphiQL = (options) => (graphiqlPage ??= renderGraphiQL(options));

export function createYogaServer({ context, verifier, logger, production, plugins = [] }: YogaOptions) {
  return createYoga<ServerContext & { viewer?: Viewer | null }, GraphQLContext>({
    schema: createChatSchema(),
    graphqlEndpoint: '/graphql',
    landingPage: false,
    logging: {
      debug: (...args) => logger.debug({ args }, 'yoga'),
      info: (...args) => logger.info({ args }, 'yoga'),
      warn: (...args) => logger.warn({ args }, 'yoga'),
      // Yoga logs every error it masks; a coded domain error is an answer to the client, not a fault here.
      error: (...args) =>
        args.some((arg) => arg instanceof GraphQLError && isChatError(arg.originalError))
          ? logger.debug({ args }, 'yoga')
          : logger.error({ args }, 'yoga'),
    },
    // SSE is the one GraphiQL transport that carries the headers editor, Authorization included (PITFALLS 15).
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
    plugins,
    async context(initial): Promise<GraphQLContext> {
      // WebSocket operations arrive with the viewer of their connection_init; HTTP and SSE carry a header.
      if (initial.viewer !== undefined) return { ...context, viewer: initial.viewer };
      const result = await verifier.verify(initial.request?.headers.get('authorization') ?? undefined);
      return { ...context, viewer: result.ok ? result.viewer : null };
    },
  });
}

export type YogaServer = ReturnType<typeof createYogaServer>;

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
