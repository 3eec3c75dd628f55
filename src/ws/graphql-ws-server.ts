import { GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { makeServer, type ServerOptions } from 'graphql-ws';
import type { TokenVerifier } from '../auth/token-verifier.ts';
import type { Logger } from '../chat/logger.ts';
import type { YogaServer } from '../graphql/yoga.ts';
import { CloseCode } from './close-codes.ts';
import type { Connection } from './connection-registry.ts';
import { nextFramePrefix, sharedPayloadReplacer } from './shared-frames.ts';
import type { SocketSession } from './socket-session.ts';
import { armTokenExpiry } from './token-expiry.ts';

/**
 * Yoga's validation plugin puts `extensions.http` (status 400) on each error for its HTTP responses and strips it
 * there; a WebSocket client would see it raw. The code stays.
 */
function forSocket(error: GraphQLError): GraphQLError {
  if (!('http' in error.extensions)) return error;
  const { http: _http, ...extensions } = error.extensions;
  return new GraphQLError(error.message, { ...(error.nodes ? { nodes: error.nodes } : {}), extensions });
}

/** Only the connection: the upgrade's IncomingMessage (headers and all) is not kept for a socket's lifetime. */
export interface SocketExtra {
  connection: Connection;
  session: SocketSession;
}

type Enveloped = ReturnType<YogaServer['getEnveloped']>;
interface EnvelopedArgs extends ExecutionArgs {
  rootValue: { execute: Enveloped['execute']; subscribe: Enveloped['subscribe'] };
}

export interface GraphQLWsServerOptions {
  yoga: YogaServer;
  verifier: TokenVerifier;
  logger: Logger;
  connectionInitTimeoutMs: number;
  maxSubscriptionsPerConnection: number;
}

/**
 * graphql-ws wired the way Yoga documents it (`onSubscribe` -> `yoga.getEnveloped`), so Yoga's plugins,
 * context and error masking apply to WebSocket operations exactly as to HTTP ones.
 */
export function createGraphQLWsServer({
  yoga,
  verifier,
  logger,
  connectionInitTimeoutMs,
  maxSubscriptionsPerConnection,
}: GraphQLWsServerOptions) {
  const options: ServerOptions<Record<string, unknown>, SocketExtra> = {
    connectionInitWaitTimeout: connectionInitTimeoutMs,

    async onConnect(ctx) {
      const { connection } = ctx.extra;
      // graphql-ws's init timeout stops at connection_init; a hung key fetch (JWKS) must be bounded too.
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), connectionInitTimeoutMs);
      });
      const result = await Promise.race([verifier.verify(ctx.connectionParams?.authorization), timedOut]);
      clearTimeout(timer);
      if (result === 'timeout') {
        connection.socket.close(CloseCode.ConnectionInitialisationTimeout, 'Authentication timed out');
        return false;
      }
      if (!result.ok) {
        logger.info({ connectionId: connection.id, reason: result.reason, code: CloseCode.Forbidden }, 'connection_init refused');
        return false;
      }
      connection.viewer = result.viewer;
      armTokenExpiry(connection, result.viewer.expiresAt);
      logger.debug({ connectionId: connection.id, userId: result.viewer.id }, 'connection acknowledged');
      return true;
    },

    async onSubscribe(ctx, id, payload) {
      const { connection, session } = ctx.extra;
      if (Object.keys(ctx.subscriptions).length > maxSubscriptionsPerConnection) {
        return [
          new GraphQLError(`at most ${maxSubscriptionsPerConnection} operations per connection`, {
            extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' },
          }),
        ];
      }
      let framePrefix: string | undefined;
      // A small initial context (not Yoga's recipe of spreading graphql-ws's ctx and the request into it): it lives
      // as long as the subscription, once per subscriber.
      const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
        params: payload,
        viewer: connection.viewer,
        transport: 'ws' as const,
        // Shared subscription results are written straight to the socket; graphql-ws forgets the id on `complete`
        // before it ends the stream, so nothing is written for an operation the client has completed.
        directDelivery: (result: ExecutionResult) => {
          if (id in ctx.subscriptions) session.sendNext((framePrefix ??= nextFramePrefix(id)), result);
        },
      });
      let document;
      let errors: readonly GraphQLError[];
      try {
        document = parse(payload.query);
        errors = validate(schema, document);
      } catch (error) {
        // Yoga's recipe lets this throw (a syntax error, the token limit), and graphql-ws then closes the whole
        // socket with 4500 (PITFALLS 11): it is an answer to this operation only.
        if (error instanceof GraphQLError) return [forSocket(error)];
        throw error;
      }
      if (errors.length > 0) return errors.map(forSocket);
      const args: EnvelopedArgs = {
        schema,
        operationName: payload.operationName ?? null,
        document,
        variableValues: payload.variables ?? null,
        contextValue: await contextFactory(),
        rootValue: { execute, subscribe },
      };
      logger.debug(
        { connectionId: connection.id, userId: connection.viewer?.id, operationId: id, operationName: payload.operationName },
        'subscribe',
      );
      return args;
    },

    // Returning the result itself (not graphql-ws's copy) keeps its identity, so a result shared by many
    // subscribers is serialized once (`shared-frames.ts`).
    onNext: (_ctx, _id, _payload, _args, result) => result,
    onError(ctx, id, payload, errors) {
      const { connection } = ctx.extra;
      logger.debug(
        {
          connectionId: connection.id,
          userId: connection.viewer?.id,
          operationId: id,
          operationName: payload.operationName,
          codes: errors.map((error) => error.extensions?.code),
        },
        'operation failed',
      );
    },
    onComplete(ctx, id, payload) {
      const { connection } = ctx.extra;
      logger.debug(
        { connectionId: connection.id, userId: connection.viewer?.id, operationId: id, operationName: payload.operationName },
        'operation complete',
      );
    },
    jsonMessageReplacer: sharedPayloadReplacer,

    execute: (args) => (args as EnvelopedArgs).rootValue.execute(args),
    subscribe: (args) => (args as EnvelopedArgs).rootValue.subscribe(args),
  };
  return makeServer(options);
}
