import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Route } from './routes.ts';

export const sendJson = (response: ServerResponse, status: number, body: object): void => {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body));
};

/**
 * A route for `POST <path>` with a JSON body: another method gets 405, another content type 415. Only JSON, because
 * a cross-site HTML form cannot send it without a CORS preflight, which these routes never grant.
 */
export function jsonPostRoute(path: string, handle: (request: IncomingMessage, response: ServerResponse) => void): Route {
  return (request, response) => {
    if ((request.url ?? '').split('?')[0] !== path) return false;
    if (request.method !== 'POST') {
      response.setHeader('allow', 'POST');
      sendJson(response, 405, { error: 'use POST' });
      return true;
    }
    if (!(request.headers['content-type'] ?? '').startsWith('application/json')) {
      sendJson(response, 415, { error: 'content-type must be application/json' });
      return true;
    }
    handle(request, response);
    return true;
  };
}
