import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { handleProtocols } from 'graphql-ws';
import type { TokenVerifier } from '../auth/token-verifier.ts';
import type { Logger } from '../chat/logger.ts';
import type { Limits } from '../config.ts';
import type { DeliveryEngine } from '../delivery/engine.ts';
import type { YogaServer } from '../graphql/yoga.ts';
import { clientAddress } from './client-address.ts';
import { CloseCode } from './close-codes.ts';
import { createConnectionRegistry } from './connection-registry.ts';
import { ConnectionSlots } from './connection-slots.ts';
import { DirectSubscriptions } from './direct-subscriptions.ts';
import { createGraphQLWsServer } from './graphql-ws-server.ts';
import { startHeartbeat } from './heartbeat.ts';
import { createInitFailureLimiter } from './init-failures.ts';
import { SocketDeadlines } from './socket-deadlines.ts';
import { SessionSocket, sessionOf } from './session-socket.ts';
import { SocketSession, type SessionEnvironment } from './socket-session.ts';
import type { WebSocketHooks } from './types.ts';
import { checkUpgrade, refuseUpgrade, type UpgradeRefusal } from './upgrade-checks.ts';

export type { WebSocketHooks } from './types.ts';

export interface AttachOptions {
  httpServer: HttpServer;
  yoga: YogaServer;
  verifier: TokenVerifier;
  /** Shared delivery: the direct path builds its frames and shapes with it. */
  engine: DeliveryEngine;
  limits: Limits;
  logger: Logger;
  path?: string;
  hooks?: WebSocketHooks;
  /**
   * Shared subscriptions take the direct path (`direct-subscriptions.ts`). false: every operation goes through
   * graphql-ws's own loop, which must write the same bytes (the delivery-equivalence test compares the two).
   * @default true
   */
  directSubscriptions?: boolean;
}

/** What `admitStream` answers: the refusal to send, or the one call that gives the slot back when the stream ends. */
export type StreamAdmission = { refusal: UpgradeRefusal } | { release: () => void };

/** A terminated socket emits 'close' within ticks; this only bounds the wait for one that would not. */
const TERMINATED_CLOSE_MS = 1_000;

const SHUTTING_DOWN: UpgradeRefusal = { status: 503, reason: 'Service Unavailable' };

/** Node removed its own listener before emitting 'upgrade' (pitfalls §22): a reset must not become an unhandled 'error'. */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

/**
 * The WebSocket edge: upgrade checks before the switch, one heartbeat sweep, frame-rate and slow-consumer
 * cut-offs, the connection_init timeout and token expiry on one shared timer, and the graphql-ws protocol on top.
 * The one place that builds the edge's parts and hands each its callbacks: the sessions (`socket-session.ts`),
 * graphql-ws (`graphql-ws-server.ts`) and the direct path (`direct-subscriptions.ts`, the sessions' interceptor),
 * which know nothing of each other beyond the session's own interfaces. Knows nothing of chat.
 */
export function attachWebSocket({
  httpServer,
  yoga,
  verifier,
  engine,
  limits,
  logger,
  path = '/graphql',
  hooks = {},
  directSubscriptions = true,
}: AttachOptions) {
  const registry = createConnectionRegistry();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxPayloadBytes,
    handleProtocols,
    // Compression costs CPU per frame per socket on the fan-out path; chat frames are small.
    perMessageDeflate: false,
    // The registry tracks the sockets; ws's own tracking would cost every socket a Set entry and a close listener
    // (a closure and its context) for a list nobody reads.
    clientTracking: false,
    WebSocket: SessionSocket,
  });
  let accepting = true;
  // Sockets and SSE streams, in total and per client address: MAX_CONNECTIONS and MAX_CONNECTIONS_PER_ADDRESS.
  const slots = new ConnectionSlots(limits);
  const addressOf = (request: IncomingMessage) => clientAddress(request, limits.trustProxy);
  const initFailures = createInitFailureLimiter({ maxFailures: limits.initFailuresPerAddress, windowMs: limits.initFailureWindowMs });

  /** Takes a slot for `address`; the function returned gives it back, once however often it is called. */
  const takeSlot = (address: string) => {
    slots.take(address);
    let held = true;
    return () => {
      if (held) slots.release(address);
      held = false;
    };
  };

  const tooManyInitFailures = (address: string): UpgradeRefusal | null => {
    const blockedMs = initFailures.blockedFor(address);
    return blockedMs > 0 ? { status: 429, reason: 'Too Many Requests', retryAfterSeconds: Math.ceil(blockedMs / 1_000) } : null;
  };

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // First, whatever path follows: refusal, shutdown, or ws's handshake (which adds its own listener, and keeps
    // one of its own on the socket once it owns it).
    socket.on('error', destroyOnError);
    const address = addressOf(request);
    const refusal = accepting
      ? (checkUpgrade(request, { path, allowedOrigins: limits.allowedOrigins }) ?? slots.refusal(address) ?? tooManyInitFailures(address))
      : SHUTTING_DOWN;
    if (refusal) {
      hooks.onUpgradeRefused?.(refusal.status);
      refuseUpgrade(socket, refusal);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      socket.off('error', destroyOnError);
      onConnection(ws, address);
    });
  };
  httpServer.on('upgrade', onUpgrade);

  // Deadlines close through the session, like every other close (`SocketSession.closeSocket`).
  const deadlines = new SocketDeadlines(limits.connectionInitTimeoutMs, {
    closeGraceMs: limits.closeGraceMs,
    close: (connection, code, reason) => sessionOf(connection.socket)?.closeSocket(code, reason),
  });
  const graphqlWs = createGraphQLWsServer({
    yoga,
    verifier,
    logger,
    connectionInitTimeoutMs: limits.connectionInitTimeoutMs,
    maxSubscriptionsPerConnection: limits.maxSubscriptionsPerConnection,
    onInitReceived: (connection) => deadlines.initReceived(connection),
    onAcknowledged: (connection, viewer) => deadlines.expireAt(connection, viewer.expiresAt),
    onNext: (session) => {
      if (session.isOpen) hooks.onDelivery?.();
    },
  });
  const environment: SessionEnvironment = {
    logger,
    frameRate: limits.frameRate,
    slowConsumerBytes: limits.slowConsumerBytes,
    interceptor: directSubscriptions
      ? new DirectSubscriptions({ engine, yoga, logger, maxSubscriptionsPerConnection: limits.maxSubscriptionsPerConnection })
      : null,
    closing: (connection) => deadlines.closing(connection),
    onDelivery: () => hooks.onDelivery?.(),
    onSlowConsumer: () => hooks.onSlowConsumer?.(),
    onFrameRateExceeded: () => hooks.onFrameRateExceeded?.(),
    onInitRefused: (connection) => {
      initFailures.recordFailure(connection.remoteAddress);
      hooks.onInitRefused?.();
    },
    tokenReplaced: (connection) => {
      if (connection.viewer) deadlines.expireAt(connection, connection.viewer.expiresAt);
    },
    socketClosed: (session, code, reason) => {
      const { connection } = session;
      registry.remove(session.socket);
      slots.release(connection.remoteAddress);
      deadlines.closed(connection);
      hooks.onClose?.(connection, code);
      logger.info(
        {
          connectionId: connection.id,
          userId: connection.viewer?.id,
          code,
          reason: reason.toString(),
          seconds: (Date.now() - connection.connectedAt) / 1000,
        },
        'socket closed',
      );
      session
        .ended(code, reason.toString())
        .catch((error: unknown) => logger.error({ connectionId: connection.id, err: error }, 'graphql-ws close handling failed'));
    },
  };

  function onConnection(socket: SessionSocket, address: string) {
    // In the tick of the check that admitted it (ws completes the handshake synchronously): no overshoot.
    slots.take(address);
    const connection = registry.add(socket, address);
    hooks.onOpen?.(connection);
    const session = new SocketSession(socket, connection, environment);
    // From here on the socket's events go to its session (`session-socket.ts`).
    socket.session = session;
    deadlines.opened(connection);
    session.closed = graphqlWs.opened(session, session);
  }

  const heartbeat = startHeartbeat(
    registry,
    limits.heartbeatIntervalMs,
    (connection) => logger.info({ connectionId: connection.id, userId: connection.viewer?.id }, 'missed heartbeat; terminating'),
    () => initFailures.sweep(),
  );

  return {
    registry,
    slots,
    /**
     * An SSE stream holds a connection as a socket does (pitfalls §14): admitted against the same caps, from the
     * same client address, or refused with the status an upgrade would get (503, 429).
     */
    admitStream(request: IncomingMessage): StreamAdmission {
      const address = addressOf(request);
      const refusal = slots.refusal(address);
      return refusal ? { refusal } : { release: takeSlot(address) };
    },
    /** A slot for a stream that was not admitted (see `http/event-streams.ts`): counted even over the caps. */
    holdStream: (request: IncomingMessage): (() => void) => takeSlot(addressOf(request)),
    /** Stops new upgrades (they get 503) and closes every socket with `code`; resolves when all are closed. */
    async close(code: number = CloseCode.GoingAway, reason = 'Server shutting down', timeoutMs = 5_000): Promise<void> {
      accepting = false;
      heartbeat.stop();
      const sockets = [...registry.values()].map((c) => c.socket);
      const allClosed = Promise.all(
        sockets.map(
          (socket) =>
            new Promise<void>((resolve) => {
              if (socket.readyState === socket.CLOSED) return resolve();
              socket.once('close', () => resolve());
              // The one closing path: frames after this are dropped, a silent peer is cut after the grace.
              const session = sessionOf(socket);
              if (session) session.closeSocket(code, reason);
              else socket.close(code, reason);
            }),
        ),
      );
      const within = (ms: number) => Promise.race([allClosed, new Promise((resolve) => setTimeout(resolve, ms).unref())]);
      await within(timeoutMs);
      deadlines.stop();
      for (const socket of sockets) if (socket.readyState !== socket.CLOSED) socket.terminate();
      // ws's client tracking is off (the registry is this edge's list of sockets), so its `close` no longer waits
      // for the terminated sockets to emit 'close' (and run their close handling): this does.
      await within(TERMINATED_CLOSE_MS);
      httpServer.off('upgrade', onUpgrade);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

export type WebSocketEdge = ReturnType<typeof attachWebSocket>;
