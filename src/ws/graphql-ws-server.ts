import { GraphQLError } from 'graphql';
import { makeServer, type ServerOptions } from 'graphql-ws';
import type { TokenVerifier } from '../auth/token-verifier.ts';
import type { Logger } from '../chat/logger.ts';
import type { YogaServer } from '../graphql/yoga.ts';
import { CloseCode } from './close-codes.ts';
import type { Connection } from './connection-registry.ts';
import { DirectSubscriptions } from './direct-subscriptions.ts';
import { operationArgs, parseOperation, type EnvelopedArgs } from './operation-args.ts';
import { sharedPayloadReplacer } from './shared-frames.ts';
import type { SocketSession } from './socket-session.ts';

/** Only the connection: the upgrade's IncomingMessage (headers and all) is not kept for a socket's lifetime. */
export interface SocketExtra {
  connection: Connection;
  session: SocketSession;
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
    // Enforced by the edge on one shared timer (`socket-deadlines.ts`): graphql-ws would arm one per socket.
    connectionInitWaitTimeout: Infinity,

    async onConnect(ctx) {
      const { connection, session } = ctx.extra;
      session.edge.deadlines.initReceived(connection);
      // The init timeout stops at connection_init (above); a hung key fetch (JWKS) must be bounded too.
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), connectionInitTimeoutMs);
      });
      const result = await Promise.race([verifier.verify(ctx.connectionParams?.authorization), timedOut]);
      clearTimeout(timer);
      if (result === 'timeout') {
        session.closeSocket(CloseCode.ConnectionInitialisationTimeout, 'Authentication timed out');
        return false;
      }
      if (!result.ok) {
        logger.info({ connectionId: connection.id, reason: result.reason, code: CloseCode.Forbidden }, 'connection_init refused');
        return false;
      }
      connection.viewer = result.viewer;
      session.protocolContext = ctx;
      // The token string stays in graphql-ws's context for the socket's life otherwise; the viewer has what it says.
      (ctx as { connectionParams?: unknown }).connectionParams = undefined;
      session.edge.deadlines.expireAt(connection, result.viewer.expiresAt);
      logger.debug({ connectionId: connection.id, userId: result.viewer.id }, 'connection acknowledged');
      return true;
    },

    async onSubscribe(ctx, id, payload) {
      const { connection } = ctx.extra;
      if (Object.keys(ctx.subscriptions).length > maxSubscriptionsPerConnection) {
        return [
          new GraphQLError(`at most ${maxSubscriptionsPerConnection} operations per connection`, {
            extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' },
          }),
        ];
      }
      const operation = parseOperation(yoga, connection.viewer, payload);
      if (!('enveloped' in operation)) return operation;
      logger.debug(
        { connectionId: connection.id, userId: connection.viewer?.id, operationId: id, operationName: payload.operationName },
        'subscribe',
      );
      return operationArgs(operation, payload);
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
  return {
    ...makeServer(options),
    /** Shareable subscriptions skip graphql-ws's per-operation state (see `direct-subscriptions.ts`). */
    direct: new DirectSubscriptions({ yoga, logger, maxSubscriptionsPerConnection }),
  };
}

export type GraphQLWsServer = ReturnType<typeof createGraphQLWsServer>;
