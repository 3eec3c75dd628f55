import { readFileSync } from 'node:fs';
import type { Route } from '../routes.ts';

// Read once at start-up: two small files, and a missing one should fail the boot, not the first visitor. Beside
// this module in src/ and, copied by scripts/build.mjs, beside its compiled form in dist/.
const asset = (name: string) => readFileSync(new URL(name, import.meta.url));

const ASSETS: Record<string, { body: Buffer; type: string }> = {
  '/': { body: asset('./index.html'), type: 'text/html; charset=utf-8' },
  '/demo/chat.js': { body: asset('./chat.js'), type: 'text/javascript; charset=utf-8' },
};

// The page talks to this origin only (HTTP and WebSocket); no inline script, nothing from a CDN.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * The demo chat at `/`: one HTML page and one plain ES module, no build step. It logs in through
 * `POST /dev/token`, so the composition root mounts it together with that route (never in production).
 */
export function createDemoRoute(): Route {
  return (request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    const found = ASSETS[(request.url ?? '/').split('?')[0] ?? '/'];
    if (!found) return false;
    response.writeHead(200, {
      'content-type': found.type,
      'content-length': found.body.length,
      'cache-control': 'no-cache',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
    });
    response.end(request.method === 'HEAD' ? undefined : found.body);
    return true;
  };
}
