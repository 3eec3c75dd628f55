import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdapters } from './adapters/index.ts';
import { createTokenVerifier } from './auth/token-verifier.ts';
import { createChat } from './chat/index.ts';
import type { Logger } from './chat/logger.ts';
import type { Config } from './config.ts';
import { createYogaServer } from './graphql/yoga.ts';
import { createRequestHandler } from './http/routes.ts';
import { createMetrics } from './observability/metrics.ts';
import { createServerStats } from './observability/server-stats.ts';
import { attachWebSocket } from './ws/attach.ts';
import { CloseCode } from './ws/close-codes.ts';
import { createGraphQLWsServer } from './ws/graphql-ws-server.ts';

export interface App {
  readonly httpServer: Server;
  /** Resolves with the bound address once listening (port 0 picks a free port). */
  listen(port?: number, host?: string): Promise<{ port: number; url: string }>;
  /** Graceful stop: refuse new sockets, close open ones with 1001, leave presence, release Redis. */
  stop(): Promise<void>;
}

/** The composition root: adapters -> chat -> yoga -> http -> ws. The only file that knows them all. */
export async function createApp(config: Readonly<Config>, logger: Logger): Promise<App> {
  const adapters = await createAdapters(config, logger);
  const chat = createChat({ adapters, logger, typingTtlMs: config.typingTtlMs });
  const verifier = await createTokenVerifier(config.auth);
  let deliveries = 0;
  let connections = () => 0;

  const sources = {
    connections: () => connections(),
    subscriptions: () => chat.roomEvents.openCount,
    messagesIn: () => chat.counters.messagesIn,
    messagesOut: () => chat.counters.messagesOut,
    deliveries: () => deliveries,
  };
  const metrics = createMetrics(sources);
  const stats = createServerStats(sources);

  const yoga = createYogaServer({
    context: { chat, stats },
    verifier,
    logger,
    production: config.production,
    plugins: [
      {
        onExecutionResult({ result }) {
          if (!result || !('errors' in result)) return;
          for (const error of result.errors ?? []) metrics.errors.inc({ code: String(error.extensions?.code ?? 'UNKNOWN') });
        },
      },
    ],
  });
  const httpServer = createServer(createRequestHandler({ ready: chat.ready, registry: metrics.registry, fallback: yoga }));
  const graphqlWs = createGraphQLWsServer({
    yoga,
    verifier,
    logger,
    connectionInitTimeoutMs: config.limits.connectionInitTimeoutMs,
    maxSubscriptionsPerConnection: config.limits.maxSubscriptionsPerConnection,
  });
  const ws = attachWebSocket({
    httpServer,
    graphqlWs,
    limits: config.limits,
    logger,
    hooks: {
      onDelivery: () => {
        deliveries += 1;
      },
      onClose: (_connection, code) => metrics.closes.inc({ code: String(code) }),
      onUpgradeRefused: (status) => metrics.upgradesRefused.inc({ status: String(status) }),
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
        // SSE streams and keep-alive sockets would hold `close` open until their clients go.
        httpServer.closeAllConnections();
        await httpClosed;
        // Presence leaves are published by the subscriptions' own cleanup; give them a turn to reach Redis.
        await new Promise((resolve) => setImmediate(resolve));
        stats.stop();
        await chat.close();
      })();
      return stopping;
    },
  };
}
