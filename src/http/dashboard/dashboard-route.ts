import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Route } from '../routes.ts';
import { sendAsset, type StaticAsset } from '../static-asset.ts';

// Read once at start-up, like the demo page: a missing file fails the boot, not the first visitor. uPlot comes
// from node_modules (a runtime dependency), so the page draws with no CDN and no build step.
const asset = (name: string) => readFileSync(new URL(name, import.meta.url));
const dependency = (specifier: string) => readFileSync(createRequire(import.meta.url).resolve(specifier));

const ASSETS: Record<string, StaticAsset> = {
  '/dashboard': { body: asset('./index.html'), type: 'text/html; charset=utf-8' },
  '/dashboard/dashboard.js': { body: asset('./dashboard.js'), type: 'text/javascript; charset=utf-8' },
  '/dashboard/uplot.js': { body: dependency('uplot/dist/uPlot.esm.js'), type: 'text/javascript; charset=utf-8' },
  '/dashboard/uplot.css': { body: dependency('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

// This origin only (the page talks to /graphql over SSE); no inline script, nothing from a CDN.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * The operations dashboard at `/dashboard`: static files that hold no data, so they are served in production too.
 * Every figure comes from the `dashboard` subscription, which needs an admin token: outside production the page
 * gets one from `POST /dev/admin-token` (mounted with the other dev routes), otherwise the operator pastes one.
 */
export function createDashboardRoute(): Route {
  return (request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const found = ASSETS[path === '/dashboard/' ? '/dashboard' : path];
    if (!found) return false;
    sendAsset(request, response, found, CSP);
    return true;
  };
}
