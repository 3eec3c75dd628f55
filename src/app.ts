import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdapters } from './adapters/index.ts';
import { createTokenVerifier } from './auth/token-verifier.ts';
import { createChat } from './chat/index.ts';
import type { Logger } from './chat/logger.ts';
import type { Config } from './config.ts';
import { CHAT_DELIVERY_POLICY, createDeliveryEngine, type DeliveryPolicy } from './delivery/engine.ts';
import { createDocuments } from './documents/index.ts';
import { maskResult } from './graphql/errors.ts';
import { createChatSchema } from './graphql/schema.ts';
import { useSharedSubscriptionExecution } from './graphql/shared-execution.ts';
import { useSubscriptionTokenExpiry } from './graphql/subscription-expiry.ts';
import { createYogaServer } from './graphql/yoga.ts';
import { createAdminTokenRoute } from './http/dashboard/admin-token-route.ts';
import { createDashboardRoute } from './http/dashboard/dashboard-route.ts';
import { createDemoRoute } from './http/demo/demo-route.ts';
import { createDevTokenRoute } from './http/dev-token.ts';
import { createEventStreamAccounting } from './http/event-streams.ts';
import { createGraphQLLane } from './http/graphql-lane.ts';
import { createRequestHandler } from './http/routes.ts';
import { createMetrics } from './observability/metrics.ts';
import { createDashboard } from './observability/dashboard.ts';
import { createRoomActivity } from './observability/room-activity.ts';
import { createServerStats } from './observability/server-stats.ts';
import { attachWebSocket } from './ws/attach.ts';
import { CloseCode } from './ws/close-codes.ts';

export interface App {
  readonly httpServer: Server;
  /** Resolves with the bound address once listening (port 0 picks a free port). */
  listen(port?: number, host?: string): Promise<{ port: number; url: string }>;
  /** Graceful stop: refuse new sockets, close open ones with 1001, leave presence, release Redis. */
  stop(): Promise<void>;
}

/** Wiring choices that are not configuration: seams for the tests that compare two wirings. */
export interface AppOptions {
  /** Shared WebSocket subscriptions take the direct path. @default true */
  directSubscriptions?: boolean;
  /** What the delivery engine may share. @default CHAT_DELIVERY_POLICY */
  deliveryPolicy?: DeliveryPolicy;
  /** `POST /graphql` queries and mutations take the HTTP lane (src/http/graphql-lane.ts). @default true */
  httpLane?: boolean;
}

/** The composition root: adapters -> chat -> delivery -> yoga -> http -> ws. The only file that knows them all. */
export async function createApp(
  config: Readonly<Config>,
  logger: Logger,
  { directSubscriptions = true, deliveryPolicy = CHAT_DELIVERY_POLICY, httpLane = true }: AppOptions = {},
): Promise<App> {
  const adapters = await createAdapters(config, logger);
  const roomActivity = createRoomActivity({ idleMs: config.dashboard.roomIdleMs, maxRooms: config.dashboard.roomsPerInstance });
  const chat = createChat({
    adapters,
    logger,
    typingTtlMs: config.typingTtlMs,
    maxReplaysPerUser: config.limits.maxReplaysPerUser,
    userEventQueue: config.limits.userEventQueue,
    activity: roomActivity.observer,
  });
  const documents = createDocuments({
    adapters,
    rooms: chat.rooms,
    presence: chat.presence,
    logger,
    maxChars: config.limits.docMaxChars,
    maxReplaysPerUser: config.limits.maxReplaysPerUser,
  });
  const verifier = await createTokenVerifier(config.auth);
  let deliveries = 0;
  // The WebSocket edge is built after the metrics and stats that read its size (and read it at once): bound below.
  let connections = () => 0;

  const sources = {
    connections: () => connections(),
    // Every subscription that holds a stream open on this instance: rooms, documents and user events alike.
    subscriptions: () => chat.roomEvents.openCount + documents.events.openCount + chat.userEvents.openCount,
    messagesIn: () => chat.counters.messagesIn,
    messagesOut: () => chat.counters.messagesOut,
    deliveries: () => deliveries,
  };
  const metrics = createMetrics(sources);
  const stats = createServerStats({ sources, directory: adapters.instances, logger, rooms: roomActivity });
  const dashboard = createDashboard({
    stats,
    logger,
    rateWindowSeconds: roomActivity.windowSeconds,
    roomName: async (id) => (await adapters.rooms.get(id))?.name ?? null,
  });

  // SSE subscriptions hold a connection as a socket does, so MAX_CONNECTIONS and MAX_CONNECTIONS_PER_ADDRESS count
  // both (pitfalls §14, §25); requests that end by themselves are counted so shutdown can let them finish.
  const requests = createEventStreamAccounting({
    gate: { admit: (request) => ws.admitStream(request), hold: (request) => ws.holdStream(request) },
    onRefused: (status) => metrics.upgradesRefused.inc({ status: String(status) }),
  });
  const schema = createChatSchema();
  // One delivery engine for every transport: shapes, shared executions and frames live in it, not in modules.
  const delivery = createDeliveryEngine({ schema, mask: maskResult, policy: deliveryPolicy });
  const yoga = createYogaServer({
    schema,
    context: { chat, stats, documents, dashboard },
    verifier,
    logger,
    production: config.production,
    limits: { ...config.limits.graphql, introspection: config.limits.introspection },
    maxRequestBodyBytes: config.limits.maxHttpBodyBytes,
    plugins: [
      // First: a stream over a connection cap is refused before any other plugin or resolver runs.
      requests.plugin,
      useSharedSubscriptionExecution(delivery),
      useSubscriptionTokenExpiry(),
      {
        onExecutionResult({ result }) {
          if (!result || !('errors' in result)) return;
          for (const error of result.errors ?? []) metrics.errors.inc({ code: String(error.extensions?.code ?? 'UNKNOWN') });
        },
      },
    ],
  });
  const handleRequest = createRequestHandler({
    ready: chat.ready,
    registry: metrics.registry,
    routes: [...devRoutes(config), createDashboardRoute()],
    fallback: httpLane
      ? createGraphQLLane({
          yoga,
          maxBodyBytes: config.limits.maxHttpBodyBytes,
          production: config.production,
          onAnswered: () => metrics.httpLane.inc(),
        })
      : yoga,
  });
  const httpServer = createServer((request, response) => requests.handle(request, response, () => handleRequest(request, response)));
  const ws = attachWebSocket({
    httpServer,
    yoga,
    verifier,
    engine: delivery,
    directSubscriptions,
    limits: config.limits,
    logger,
    hooks: {
      onDelivery: () => {
        deliveries += 1;
      },
      onClose: (_connection, code) => metrics.closes.inc({ code: String(code) }),
      onUpgradeRefused: (status) => metrics.upgradesRefused.inc({ status: String(status) }),
      onInitRefused: () => metrics.initRefused.inc(),
      onSlowConsumer: () => metrics.slowConsumers.inc(),
      onFrameRateExceeded: () => metrics.frameRateCloses.inc(),
    },
  });
  connections = () => ws.registry.size;

  let stopping: Promise<void> | null = null;
  return {
    httpServer,
    listen(port = config.port, host = config.host) {
      return new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          httpServer.off('error', reject);
          const address = httpServer.address() as AddressInfo;
          const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          resolve({ port: address.port, url: `http://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${address.port}` });
        });
      });
    },
    stop() {
      stopping ??= (async () => {
        const httpClosed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
        await ws.close(CloseCode.GoingAway, 'Server shutting down', config.shutdownTimeoutMs / 2);
        // In-flight mutations finish (bounded); then SSE streams and keep-alive sockets, which would hold
        // `close` open until their clients go, are cut.
        httpServer.closeIdleConnections();
        const deadline = Date.now() + config.shutdownTimeoutMs / 4;
        while (requests.inFlight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
        httpServer.closeAllConnections();
        await httpClosed;
        // Before the Redis connections close: the other instances' dashboards drop this one at once.
        await stats.stop();
        // Waits for the ended subscriptions' MemberLeft (and EditorLeft) to be published before Redis is let go.
        await Promise.all([documents.events.drain(config.shutdownTimeoutMs / 4), chat.roomEvents.drain(config.shutdownTimeoutMs / 4)]);
        await chat.close(0);
      })();
      return stopping;
    },
  };
}

/**
 * `POST /dev/token` and the demo page that logs in with it: outside production, and only while the built-in dev
 * secret is in use. With a real key configured, minting tokens over HTTP would let anyone be anyone (contract, Auth).
 */
function devRoutes({ devTokens, auth }: Readonly<Config>) {
  if (!devTokens || auth.kind !== 'secret' || !auth.devSecret) return [];
  const claims = { ...(auth.issuer ? { issuer: auth.issuer } : {}), ...(auth.audience ? { audience: auth.audience } : {}) };
  return [
    createDevTokenRoute({ secret: auth.secret, ...claims }),
    createAdminTokenRoute({ secret: auth.secret, ...claims }),
    createDemoRoute(),
  ];
}
