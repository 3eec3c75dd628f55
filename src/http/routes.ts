import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

/** Handles the request and returns true, or returns false to let the next route have it. */
export type Route = (request: IncomingMessage, response: ServerResponse) => boolean;

export interface RouteOptions {
  ready: () => Promise<boolean>;
  registry: Registry;
  /** Tried in order after health/ready/metrics and before Yoga (the dev token endpoint, the demo page). */
  routes?: readonly Route[];
  /** Everything else: Yoga (`/graphql`, GraphiQL). */
  fallback: (request: IncomingMessage, response: ServerResponse) => void;
}

const send = (response: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8') => {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
};

/** Health, readiness and metrics ahead of Yoga: cheap, unauthenticated, never touching GraphQL. */
export function createRequestHandler({ ready, registry, routes = [], fallback }: RouteOptions) {
  return (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method === 'GET' || request.method === 'HEAD') {
      if (path === '/health') return send(response, 200, 'ok\n');
      if (path === '/ready') {
        ready()
          .catch(() => false)
          .then((ok) => send(response, ok ? 200 : 503, ok ? 'ready\n' : 'not ready: a backing service does not answer\n'));
        return;
      }
      if (path === '/metrics') {
        registry
          .metrics()
          .then((text) => send(response, 200, text, registry.contentType))
          .catch(() => send(response, 500, 'metrics unavailable\n'));
        return;
      }
    }
    if (routes.some((route) => route(request, response))) return;
    fallback(request, response);
  };
}
