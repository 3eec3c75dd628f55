import { signDevToken } from '../../auth/sign-dev-token.ts';
import { jsonPostRoute, sendJson } from '../json-post-route.ts';
import type { Route } from '../routes.ts';

export interface AdminTokenRouteOptions {
  /** The built-in dev secret: the token must verify like any other. */
  secret: string;
  issuer?: string;
  audience?: string;
  /** jose time span. @default "1h" */
  expiresIn?: string;
}

/**
 * `POST /dev/admin-token` -> `{ "token", "userId": "ops" }` with `roles: ["admin"]`, for the dashboard page. It is
 * mounted with `POST /dev/token` only (outside production, built-in dev secret), where anyone can already be
 * anyone; the admin role adds nothing there but the right to watch the dashboard.
 */
export function createAdminTokenRoute({ secret, issuer, audience, expiresIn = '1h' }: AdminTokenRouteOptions): Route {
  return jsonPostRoute('/dev/admin-token', (request, response) => {
    request.resume();
    signDevToken(secret, {
      sub: 'ops',
      name: 'Operations',
      roles: ['admin'],
      expiresIn,
      ...(issuer ? { issuer } : {}),
      ...(audience ? { audience } : {}),
    })
      .then((token) => sendJson(response, 200, { token, userId: 'ops' }))
      .catch(() => sendJson(response, 500, { error: 'could not sign a token' }));
  });
}
