import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { handleProtocols } from 'graphql-ws';
import type { Logger } from '../chat/logger.ts';
import type { Limits } from '../config.ts';
import { CloseCode } from './close-codes.ts';
import { createConnectionRegistry, type Connection } from './connection-registry.ts';
import { startHeartbeat } from './heartbeat.ts';
import { createInitFailureLimiter } from './init-failures.ts';
import { finishFrame } from './shared-frames.ts';
import { clearTokenExpiry } from './token-expiry.ts';
import { checkUpgrade, refuseUpgrade, type UpgradeRefusal } from './upgrade-checks.ts';
import type { createGraphQLWsServer } from './graphql-ws-server.ts';

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
  graphqlWs: ReturnType<typeof createGraphQLWsServer>;
  limits: Limits;
  logger: Logger;
  path?: string;
  hooks?: WebSocketHooks;
}

const isUnexpectedMessageType = (error: unknown) =>
  error instanceof Error && error.message.startsWith('Unexpected message of type');

/**
 * The WebSocket edge: upgrade checks before the switch, one heartbeat sweep, frame-rate and slow-consumer
 * cut-offs, token expiry, and the graphql-ws protocol on top. Knows nothing of chat.
 */
export function attachWebSocket({ httpServer, graphqlWs, limits, logger, path = '/graphql', hooks = {} }: AttachOptions) {
  const registry = createConnectionRegistry();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxPayloadBytes,
    handleProtocols,
    // Compression costs CPU per frame per socket on the fan-out path; chat frames are small.
    perMessageDeflate: false,
  });
  let accepting = true;
  const initFailures = createInitFailureLimiter({ maxFailures: limits.initFailuresPerAddress, windowMs: limits.initFailureWindowMs });

  const tooManyInitFailures = (request: IncomingMessage): UpgradeRefusal | null => {
    const blockedMs = initFailures.blockedFor(request.socket.remoteAddress ?? 'unknown');
    return blockedMs > 0 ? { status: 429, reason: 'Too Many Requests', retryAfterSeconds: Math.ceil(blockedMs / 1_000) } : null;
  };

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refusal = accepting
      ? (checkUpgrade(request, { path, allowedOrigins: limits.allowedOrigins, maxConnections: limits.maxConnections }, registry.size) ??
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

  function onConnection(socket: WebSocket, request: IncomingMessage) {
    const connection = registry.add(socket, request.socket.remoteAddress ?? 'unknown');
    hooks.onOpen?.(connection);

    const overFrameRate = () => {
      const now = Date.now();
      if (now - connection.frameWindowStart >= 1_000) {
        connection.frameWindowStart = now;
        connection.framesInWindow = 0;
      }
      connection.framesInWindow += 1;
      if (connection.framesInWindow <= limits.frameRate) return false;
      if (socket.readyState === socket.OPEN) {
        logger.warn({ connectionId: connection.id, userId: connection.viewer?.id }, 'frame rate exceeded; closing 1008');
        hooks.onFrameRateExceeded?.();
        socket.close(CloseCode.PolicyViolation, 'Frame rate exceeded');
      }
      return true;
    };

    const closed = graphqlWs.opened(
      {
        protocol: socket.protocol,
        send(data) {
          if (socket.readyState !== socket.OPEN) return;
          socket.send(finishFrame(data));
          if (data.charCodeAt(data.length - 1) === 0x7d && data.includes('"type":"next"')) hooks.onDelivery?.();
          // A reader that stopped reading must not grow this process without bound (PITFALLS 10).
          // Once closing, `send` above writes nothing more; the close frame queues behind what is buffered, and
          // ws's close timeout (30 s) or the next heartbeat sweeps (2 intervals) free the socket if it never reads.
          if (socket.bufferedAmount > limits.slowConsumerBytes) {
            logger.warn({ connectionId: connection.id, userId: connection.viewer?.id }, 'slow consumer; closing 1013');
            hooks.onSlowConsumer?.();
            socket.close(CloseCode.TryAgainLater, 'Too slow: reconnect and resume with `after`');
          }
        },
        close: (code, reason) => {
          // Already closing (4408 after a timed-out key fetch, then graphql-ws's own 4403): our fault, not counted.
          if (socket.readyState !== socket.OPEN) return;
          // graphql-ws closes 4403 when onConnect refuses the token: count it against the address.
          if (code === CloseCode.Forbidden && !connection.viewer) {
            initFailures.recordFailure(connection.remoteAddress);
            hooks.onInitRefused?.();
          }
          socket.close(code, reason);
        },
        onMessage(handle) {
          socket.on('message', (data: RawData, isBinary: boolean) => {
            if (overFrameRate()) return;
            if (isBinary) {
              socket.close(CloseCode.BadRequest, 'Binary frames are not part of graphql-transport-ws');
              return;
            }
            handle(String(data)).catch((error: unknown) => {
              if (isUnexpectedMessageType(error)) {
                // Client-sent server-only messages: a bad request, not a server fault (graphql-ws says 4500).
                socket.close(CloseCode.BadRequest, 'Unexpected message type');
                return;
              }
              logger.error({ connectionId: connection.id, userId: connection.viewer?.id, err: error }, 'graphql-ws message handling failed');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          });
        },
      },
      { connection },
    );

    socket.on('ping', () => {
      overFrameRate();
    });
    socket.on('pong', () => {
      connection.alive = true;
      connection.lastPongAt = Date.now();
    });
    socket.on('error', (error) => {
      // ws closes with 1009 itself for oversize frames; anything else is logged here and the socket closed.
      logger.info({ connectionId: connection.id, userId: connection.viewer?.id, err: error }, 'socket error');
    });
    socket.once('close', (code, reason) => {
      registry.remove(socket);
      clearTokenExpiry(connection);
      hooks.onClose?.(connection, code);
      logger.info(
        { connectionId: connection.id, userId: connection.viewer?.id, code, reason: reason.toString(), seconds: (Date.now() - connection.connectedAt) / 1000 },
        'socket closed',
      );
      closed(code, reason.toString()).catch((error: unknown) =>
        logger.error({ connectionId: connection.id, err: error }, 'graphql-ws close handling failed'),
      );
    });
  }

  const heartbeat = startHeartbeat(
    registry,
    limits.heartbeatIntervalMs,
    (connection) => logger.info({ connectionId: connection.id, userId: connection.viewer?.id }, 'missed heartbeat; terminating'),
    () => initFailures.sweep(),
  );

  return {
    registry,
    /** Stops new upgrades (they get 503) and closes every socket with `code`; resolves when all are closed. */
    async close(code: number = CloseCode.GoingAway, reason = 'Server shutting down', timeoutMs = 5_000): Promise<void> {
      accepting = false;
      heartbeat.stop();
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
