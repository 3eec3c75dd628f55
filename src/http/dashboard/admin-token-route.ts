import type { ServerResponse } from 'node:http';
import { signDevToken } from '../../auth/sign-dev-token.ts';
import type { Route } from '../routes.ts';

export interface AdminTokenRouteOptions {
  /** The built-in dev secret: the token must verify like any other. */
  secret: string;
  issuer?: string;
  audience?: string;
  /** jose time span. @default "1h" */
  expiresIn?: string;
}

const json = (response: ServerResponse, status: number, body: object) => {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body));
};

/**
 * `POST /dev/admin-token` -> `{ "token", "userId": "ops" }` with `roles: ["admin"]`, for the dashboard page. It is
 * mounted with `POST /dev/token` only (outside production, built-in dev secret), where anyone can already be
 * anyone; the admin role adds nothing there but the right to watch the dashboard.
 */
export function createAdminTokenRoute({ secret, issuer, audience, expiresIn = '1h' }: AdminTokenRouteOptions): Route {
  return (request, response) => {
    if ((request.url ?? '').split('?')[0] !== '/dev/admin-token') return false;
    if (request.method !== 'POST') {
      response.setHeader('allow', 'POST');
      json(response, 405, { error: 'use POST' });
      return true;
    }
    // Only JSON, as /dev/token: a cross-site form cannot send it without a preflight, which is never granted.
    if (!(request.headers['content-type'] ?? '').startsWith('application/json')) {
      json(response, 415, { error: 'content-type must be application/json' });
      return true;
    }
    request.resume();
    signDevToken(secret, {
      sub: 'ops',
      name: 'Operations',
      roles: ['admin'],
      expiresIn,
      ...(issuer ? { issuer } : {}),
      ...(audience ? { audience } : {}),
    })
      .then((token) => json(response, 200, { token, userId: 'ops' }))
      .catch(() => json(response, 500, { error: 'could not sign a token' }));
    return true;
  };
}
