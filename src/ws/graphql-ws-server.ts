import { GraphQLError, type ExecutionArgs } from 'graphql';
import { makeServer, type ServerOptions } from 'graphql-ws';
import type { IncomingMessage } from 'node:http';
import type { TokenVerifier } from '../auth/token-verifier.ts';
import type { Logger } from '../chat/logger.ts';
import type { YogaServer } from '../graphql/yoga.ts';
import { CloseCode } from './close-codes.ts';
import type { Connection } from './connection-registry.ts';
import { armTokenExpiry } from './token-expiry.ts';

export interface SocketExtra {
  connection: Connection;
  request: IncomingMessage;
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
        logger.info({ connectionId: connection.id, reason: result.reason }, 'connection_init refused');
        return false;
      }
      connection.viewer = result.viewer;
      armTokenExpiry(connection, result.viewer.expiresAt);
      logger.debug({ connectionId: connection.id, userId: result.viewer.id }, 'connection acknowledged');
      return true;
    },

    async onSubscribe(ctx, id, payload) {
      const { connection, request } = ctx.extra;
      if (Object.keys(ctx.subscriptions).length > maxSubscriptionsPerConnection) {
        return [
          new GraphQLError(`at most ${maxSubscriptionsPerConnection} operations per connection`, {
            extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' },
          }),
        ];
      }
      const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
        ...ctx,
        req: request,
        socket: connection.socket,
        params: payload,
        viewer: connection.viewer,
      });
      let document;
      try {
        document = parse(payload.query);
      } catch (error) {
        // Yoga's recipe lets this throw, and graphql-ws then closes the whole socket with 4500 (PITFALLS 11).
        if (error instanceof GraphQLError) return [error];
        throw error;
      }
      const errors = validate(schema, document);
      if (errors.length > 0) return errors;
      const args: EnvelopedArgs = {
        schema,
        operationName: payload.operationName ?? null,
        document,
        variableValues: payload.variables ?? null,
        contextValue: await contextFactory(),
        rootValue: { execute, subscribe },
      };
      logger.debug({ connectionId: connection.id, operationId: id, operationName: payload.operationName }, 'subscribe');
      return args;
    },

    execute: (args) => (args as EnvelopedArgs).rootValue.execute(args),
    subscribe: (args) => (args as EnvelopedArgs).rootValue.subscribe(args),
  };
  return makeServer(options);
}
