import type { IncomingMessage } from 'node:http';
import { signDevToken } from '../auth/sign-dev-token.ts';
import { jsonPostRoute, sendJson } from './json-post-route.ts';
import type { Route } from './routes.ts';

export interface DevTokenRouteOptions {
  /** The configured HS256 secret: the tokens must verify like any other. */
  secret: string;
  issuer?: string;
  audience?: string;
  /** jose time span. @default "1h" */
  expiresIn?: string;
  /** @default 40 */
  maxNameLength?: number;
}

const MAX_BODY_BYTES = 1_024;

async function readBody(request: IncomingMessage): Promise<string | null> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A display name to a stable user id: "Ada Lovelace" -> "ada-lovelace", so the same name is the same user. */
export const userIdFor = (name: string) =>
  name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');

/**
 * `POST /dev/token` `{ "name": "Ada" }` -> `{ "token", "userId" }`: anyone can be anyone, which is why the
 * composition root mounts it only when `config.devTokens` holds (never in production) and an HS256 secret is
 * configured. It exists so the demo page at `/` needs no token pasting.
 */
export function createDevTokenRoute({ secret, issuer, audience, expiresIn = '1h', maxNameLength = 40 }: DevTokenRouteOptions): Route {
  return jsonPostRoute('/dev/token', (request, response) => {
    readBody(request)
      .then(async (raw) => {
        if (raw === null) return sendJson(response, 413, { error: 'body too large' });
        let name: unknown;
        try {
          name = (JSON.parse(raw) as { name?: unknown } | null)?.name;
        } catch {
          return sendJson(response, 400, { error: 'body must be JSON' });
        }
        const trimmed = typeof name === 'string' ? name.trim() : '';
        const userId = userIdFor(trimmed);
        if (!trimmed || trimmed.length > maxNameLength || !userId) {
          return sendJson(response, 400, { error: `name must be 1..${maxNameLength} characters with a letter or digit` });
        }
        const token = await signDevToken(secret, {
          sub: userId,
          name: trimmed,
          expiresIn,
          ...(issuer ? { issuer } : {}),
          ...(audience ? { audience } : {}),
        });
        sendJson(response, 200, { token, userId });
      })
      .catch(() => {
        if (!response.headersSent) sendJson(response, 500, { error: 'could not sign a token' });
      });
  });
}
