import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Route } from '../routes.ts';
import { createBrowserModules } from './browser-modules.ts';

// Read once at start-up: two small files, and a missing one should fail the boot, not the first visitor. Beside
// this module in src/ and, copied by scripts/build.mjs, beside its compiled form in dist/.
const asset = (name: string) => readFileSync(new URL(name, import.meta.url));

const ASSETS: Record<string, { body: Buffer; type: string }> = {
  '/': { body: asset('./index.html'), type: 'text/html; charset=utf-8' },
  '/demo/chat.js': { body: asset('./chat.js'), type: 'text/javascript; charset=utf-8' },
};

// The chat page's import map (`graphql`, `graphql-ws` -> browser-modules.ts) is its one inline script: allowed by hash.
const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(ASSETS['/']?.body.toString('utf8') ?? '')?.[1] ?? '';
const importMapHash = `'sha256-${createHash('sha256').update(importMap).digest('base64')}'`;

// The page talks to this origin only (HTTP and WebSocket); nothing from a CDN.
const CSP = `default-src 'none'; script-src 'self' ${importMapHash}; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/**
 * The demo chat at `/`: one HTML page and one plain ES module, no build step, on the `resumable()` helper and
 * graphql-ws (served by `browser-modules.ts`). It logs in through
 * `POST /dev/token`, so the composition root mounts it together with that route (never in production).
 */
export function createDemoRoute(): Route {
  const modules = createBrowserModules();
  return (request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    if (modules(request, response)) return true;
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
