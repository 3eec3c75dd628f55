import { GraphQLError } from 'graphql';
import { makeServer, type ServerOptions } from 'graphql-ws';
import type { TokenVerifier } from '../auth/token-verifier.ts';
import type { Logger } from '../chat/logger.ts';
import type { Viewer } from '../chat/types.ts';
import type { YogaServer } from '../graphql/yoga.ts';
import { CloseCode } from './close-codes.ts';
import type { Connection } from './connection-registry.ts';
import { operationArgs, parseOperation, type EnvelopedArgs } from './operation-args.ts';
import type { SocketSession } from './socket-session.ts';

/**
 * graphql-ws's `ctx.extra`: the session itself, which has the connection; not the upgrade's IncomingMessage
 * (headers and all), which is not kept for a socket's lifetime, and no object of its own per socket.
 */
export type SocketExtra = SocketSession;

export interface GraphQLWsServerOptions {
  yoga: YogaServer;
  verifier: TokenVerifier;
  logger: Logger;
  connectionInitTimeoutMs: number;
  maxSubscriptionsPerConnection: number;
  /** connection_init arrived: no init timeout from here on, even while the token is being checked. */
  onInitReceived(connection: Connection): void;
  /** The token was accepted (the socket is about to be acknowledged). */
  onAcknowledged(connection: Connection, viewer: Viewer): void;
  /** A `next` frame of graphql-ws's own loop is about to be written to `session`. */
  onNext(session: SocketSession): void;
}

/**
 * graphql-ws wired the way Yoga documents it (`onSubscribe` -> `yoga.getEnveloped`), so Yoga's plugins,
 * context and error masking apply to WebSocket operations exactly as to HTTP ones. What this does not serve
 * itself goes through graphql-ws's own loop; shared subscriptions are taken before it by the direct path.
 */
export function createGraphQLWsServer({
  yoga,
  verifier,
  logger,
  connectionInitTimeoutMs,
  maxSubscriptionsPerConnection,
  onInitReceived,
  onAcknowledged,
  onNext,
}: GraphQLWsServerOptions) {
  const options: ServerOptions<Record<string, unknown>, SocketExtra> = {
    // Enforced by the edge on one shared timer (`socket-deadlines.ts`): graphql-ws would arm one per socket.
    connectionInitWaitTimeout: Infinity,

    async onConnect(ctx) {
      const session = ctx.extra;
      const { connection } = session;
      onInitReceived(connection);
      // The init timeout stops at connection_init (above); a hung key fetch (JWKS) must be bounded too.
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), connectionInitTimeoutMs);
      });
      const result = await Promise.race([verifier.verify(ctx.connectionParams?.authorization, { remember: false }), timedOut]);
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
      onAcknowledged(connection, result.viewer);
      logger.debug({ connectionId: connection.id, userId: result.viewer.id }, 'connection acknowledged');
      return true;
    },

    async onSubscribe(ctx, id, payload) {
      const session = ctx.extra;
      const { connection } = session;
      // graphql-ws has taken the id already: the count includes this operation (and the direct path's).
      if (session.operationCount() > maxSubscriptionsPerConnection) {
        return [
          new GraphQLError(`at most ${maxSubscriptionsPerConnection} operations per connection`, {
            extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' },
          }),
        ];
      }
      const operation = parseOperation(yoga, connection.viewer, payload, undefined, session);
      if (!('enveloped' in operation)) return operation;
      logger.debug(
        { connectionId: connection.id, userId: connection.viewer?.id, operationId: id, operationName: payload.operationName },
        'subscribe',
      );
      return operationArgs(operation, payload);
    },

    // The result itself, not graphql-ws's copy of it (`{ ...data, errors: toJSON() }`): the bytes written are then
    // those of the direct path, which serializes the same object (`test/integration/delivery-equivalence.test.ts`).
    onNext: (ctx, _id, _payload, _args, result) => {
      onNext(ctx.extra);
      return result;
    },
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

    execute: (args) => (args as EnvelopedArgs).rootValue.execute(args),
    subscribe: (args) => (args as EnvelopedArgs).rootValue.subscribe(args),
  };
  return makeServer(options);
}

export type GraphQLWsServer = ReturnType<typeof createGraphQLWsServer>;
