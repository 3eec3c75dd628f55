import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** Figures read at scrape time, so the hot path only bumps plain numbers. */
export interface MetricSources {
  connections(): number;
  subscriptions(): number;
  messagesIn(): number;
  messagesOut(): number;
  deliveries(): number;
}

/** Prometheus instruments of one server, in a registry of its own so several servers can share a process (tests). */
export function createMetrics(sources: MetricSources) {
  const registry = new Registry();
  // Includes event-loop lag (chat_nodejs_eventloop_lag_seconds and its percentiles), heap and RSS.
  collectDefaultMetrics({ register: registry, prefix: 'chat_' });

  const fromSource = (name: string, help: string, read: () => number) => {
    let seen = 0;
    return new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const now = read();
        this.inc(Math.max(0, now - seen));
        seen = now;
      },
    });
  };
  new Gauge({
    name: 'chat_ws_connections',
    help: 'Open WebSocket connections',
    registers: [registry],
    collect() {
      this.set(sources.connections());
    },
  });
  new Gauge({
    name: 'chat_subscriptions',
    help: 'Open roomEvents, documentEvents and userEvents subscriptions, every transport',
    registers: [registry],
    collect() {
      this.set(sources.subscriptions());
    },
  });
  fromSource('chat_messages_in_total', 'Messages accepted by sendMessage on this instance', sources.messagesIn);
  fromSource('chat_messages_out_total', 'MessageSent events handed to local subscribers', sources.messagesOut);
  fromSource('chat_ws_deliveries_total', 'graphql-ws `next` frames written to sockets', sources.deliveries);

  return {
    registry,
    errors: new Counter({
      name: 'chat_graphql_errors_total',
      help: 'GraphQL errors returned, by extensions.code',
      labelNames: ['code'],
      registers: [registry],
    }),
    closes: new Counter({
      name: 'chat_ws_closes_total',
      help: 'WebSocket closes, by close code',
      labelNames: ['code'],
      registers: [registry],
    }),
    upgradesRefused: new Counter({
      name: 'chat_ws_upgrades_refused_total',
      help: 'Upgrades refused before the switch, by HTTP status',
      labelNames: ['status'],
      registers: [registry],
    }),
    initRefused: new Counter({
      name: 'chat_ws_init_refused_total',
      help: 'connection_init refused (4403 before ack); they count toward INIT_FAILURES_PER_ADDRESS',
      registers: [registry],
    }),
    slowConsumers: new Counter({
      name: 'chat_ws_slow_consumer_closes_total',
      help: 'Sockets closed 1013 for passing SLOW_CONSUMER_BYTES unsent',
      registers: [registry],
    }),
    frameRateCloses: new Counter({
      name: 'chat_ws_frame_rate_closes_total',
      help: 'Sockets closed 1008 for passing FRAME_RATE',
      registers: [registry],
    }),
    httpLane: new Counter({
      name: 'chat_http_lane_requests_total',
      help: "POST /graphql queries and mutations answered by the HTTP lane (the rest go through Yoga's Fetch adapter)",
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
