import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { handleProtocols } from 'graphql-ws';
import type { Logger } from '../chat/logger.ts';
import type { Limits } from '../config.ts';
import { CloseCode } from './close-codes.ts';
import { createConnectionRegistry, type Connection } from './connection-registry.ts';
import { startHeartbeat } from './heartbeat.ts';
import { createInitFailureLimiter } from './init-failures.ts';
import { SocketDeadlines } from './socket-deadlines.ts';
import { listen, sessionOf, SocketSession, type EdgeContext } from './socket-session.ts';
import { checkUpgrade, refuseUpgrade, type UpgradeRefusal } from './upgrade-checks.ts';
import type { GraphQLWsServer } from './graphql-ws-server.ts';

export interface WebSocketHooks {
  onOpen?(connection: Connection): void;
  onClose?(connection: Connection, code: number): void;
  /** A `next` frame was written to a socket. */
  onDelivery?(): void;
  onUpgradeRefused?(status: number): void;
  /** A connection_init was refused (4403 before ack). */
  onInitRefused?(): void;
  /** A socket was cut off for not reading (1013). */
  onSlowConsumer?(): void;
  /** A socket was cut off for sending too many frames (1008). */
  onFrameRateExceeded?(): void;
}

export interface AttachOptions {
  httpServer: HttpServer;
  graphqlWs: GraphQLWsServer;
  limits: Limits;
  logger: Logger;
  path?: string;
  hooks?: WebSocketHooks;
  /** Connections held outside this edge (SSE streams), counted against MAX_CONNECTIONS too. */
  otherConnections?: () => number;
}

/**
 * The WebSocket edge: upgrade checks before the switch, one heartbeat sweep, frame-rate and slow-consumer
 * cut-offs, the connection_init timeout and token expiry on one shared timer, and the graphql-ws protocol on top.
 * Knows nothing of chat.
 */
export function attachWebSocket({
  httpServer,
  graphqlWs,
  limits,
  logger,
  path = '/graphql',
  hooks = {},
  otherConnections = () => 0,
}: AttachOptions) {
  const registry = createConnectionRegistry();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxPayloadBytes,
    handleProtocols,
    // Compression costs CPU per frame per socket on the fan-out path; chat frames are small.
    perMessageDeflate: false,
  });
  let accepting = true;
  const openConnections = () => registry.size + otherConnections();
  const initFailures = createInitFailureLimiter({ maxFailures: limits.initFailuresPerAddress, windowMs: limits.initFailureWindowMs });

  const tooManyInitFailures = (request: IncomingMessage): UpgradeRefusal | null => {
    const blockedMs = initFailures.blockedFor(request.socket.remoteAddress ?? 'unknown');
    return blockedMs > 0 ? { status: 429, reason: 'Too Many Requests', retryAfterSeconds: Math.ceil(blockedMs / 1_000) } : null;
  };

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refusal = accepting
      ? (checkUpgrade(request, { path, allowedOrigins: limits.allowedOrigins, maxConnections: limits.maxConnections }, openConnections()) ??
        tooManyInitFailures(request))
      : { status: 503 as const, reason: 'Service Unavailable' };
    if (refusal) {
      hooks.onUpgradeRefused?.(refusal.status);
      refuseUpgrade(socket, refusal);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => onConnection(ws, request));
  };
  httpServer.on('upgrade', onUpgrade);

  const deadlines = new SocketDeadlines(limits.connectionInitTimeoutMs);
  const edge: EdgeContext = { limits, logger, hooks, initFailures, deadlines, direct: graphqlWs.direct };

  // One close listener for every socket (the socket is `this`), like the others in `socket-session.ts`.
  function onSocketClose(this: WebSocket, code: number, reason: Buffer) {
    const session = sessionOf(this);
    if (!session) return;
    const { connection } = session;
    registry.remove(this);
    deadlines.closed(connection);
    hooks.onClose?.(connection, code);
    logger.info(
      { connectionId: connection.id, userId: connection.viewer?.id, code, reason: reason.toString(), seconds: (Date.now() - connection.connectedAt) / 1000 },
      'socket closed',
    );
    session.closed?.(code, reason.toString()).catch((error: unknown) =>
      logger.error({ connectionId: connection.id, err: error }, 'graphql-ws close handling failed'),
    );
  }

  function onConnection(socket: WebSocket, request: IncomingMessage) {
    const connection = registry.add(socket, request.socket.remoteAddress ?? 'unknown');
    hooks.onOpen?.(connection);
    const session = new SocketSession(socket, connection, edge);
    listen(session, onSocketClose);
    deadlines.opened(connection);
    session.closed = graphqlWs.opened(session, { connection, session });
  }

  const heartbeat = startHeartbeat(
    registry,
    limits.heartbeatIntervalMs,
    (connection) => logger.info({ connectionId: connection.id, userId: connection.viewer?.id }, 'missed heartbeat; terminating'),
    () => initFailures.sweep(),
  );

  return {
    registry,
    /** MAX_CONNECTIONS reached, sockets and `otherConnections` together: the one rule for every transport. */
    atCapacity: () => openConnections() >= limits.maxConnections,
    /** Stops new upgrades (they get 503) and closes every socket with `code`; resolves when all are closed. */
    async close(code: number = CloseCode.GoingAway, reason = 'Server shutting down', timeoutMs = 5_000): Promise<void> {
      accepting = false;
      heartbeat.stop();
      deadlines.stop();
      const sockets = [...registry.values()].map((c) => c.socket);
      await Promise.race([
        Promise.all(
          sockets.map(
            (socket) =>
              new Promise<void>((resolve) => {
                if (socket.readyState === socket.CLOSED) return resolve();
                socket.once('close', () => resolve());
                socket.close(code, reason);
              }),
          ),
        ),
        new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
      ]);
      for (const socket of sockets) if (socket.readyState !== socket.CLOSED) socket.terminate();
      httpServer.off('upgrade', onUpgrade);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

export type WebSocketEdge = ReturnType<typeof attachWebSocket>;
