import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Route } from '../routes.ts';
import { sendAsset, type StaticAsset } from '../static-asset.ts';
import { createBrowserModules } from './browser-modules.ts';
import { otClientModule, wrapCommonJs } from './editor-modules.ts';

// Read once at start-up: small files, and a missing one should fail the boot, not the first visitor. Beside this
// module in src/ and, copied by scripts/build.mjs, beside its compiled form in dist/.
const asset = (name: string) => readFileSync(new URL(name, import.meta.url));

const HTML = 'text/html; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';

/** Built on the first `createDemoRoute` (only where the demo is served), then shared. */
function assets(): Record<string, StaticAsset> {
  return {
    '/': { body: asset('./index.html'), type: HTML },
    '/demo/chat.js': { body: asset('./chat.js'), type: JS },
    '/demo/dev-session.js': { body: asset('./dev-session.js'), type: JS },
    // The collaborative editor (issue 12) and the modules it imports, all from this origin.
    '/editor': { body: asset('./editor.html'), type: HTML },
    '/demo/editor.js': { body: asset('./editor.js'), type: JS },
    '/demo/ot-client.js': { body: Buffer.from(otClientModule('/demo/ot-text-unicode.js')), type: JS },
    '/demo/ot-text-unicode.js': { body: Buffer.from(wrapCommonJs('ot-text-unicode')), type: JS },
    '/demo/unicount.js': { body: Buffer.from(wrapCommonJs('unicount')), type: JS },
  };
}

/**
 * The pages talk to this origin only (HTTP and WebSocket); nothing from a CDN. The chat page's import map
 * (`graphql`, `graphql-ws` -> browser-modules.ts) is the one inline script, allowed by its hash.
 */
function contentSecurityPolicy(chatPage: Buffer): string {
  const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(chatPage.toString('utf8'))?.[1] ?? '';
  const importMapHash = `'sha256-${createHash('sha256').update(importMap).digest('base64')}'`;
  return `default-src 'none'; script-src 'self' ${importMapHash}; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
}

/**
 * The demo chat at `/` (on the `resumable()` helper and graphql-ws, served by `browser-modules.ts`) and the
 * collaborative editor at `/editor` (the OT client, `editor-modules.ts`): HTML pages and plain ES modules, no
 * build step. They log in through `POST /dev/token`, so the composition root mounts them together with that route
 * (never in production).
 */
export function createDemoRoute(): Route {
  const ASSETS = assets();
  const CSP = contentSecurityPolicy(ASSETS['/']!.body);
  const modules = createBrowserModules();
  return (request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    if (modules(request, response)) return true;
    const found = ASSETS[(request.url ?? '/').split('?')[0] ?? '/'];
    if (!found) return false;
    sendAsset(request, response, found, CSP);
    return true;
  };
}
