import type { IncomingMessage, ServerResponse } from 'node:http';

/** A file served from memory: read once at start-up, so a missing file fails the boot, not the first visitor. */
export interface StaticAsset {
  body: Buffer;
  type: string;
}

/** Answers GET or HEAD with `asset` under the page's Content-Security-Policy; revalidated on every visit. */
export function sendAsset(request: IncomingMessage, response: ServerResponse, asset: StaticAsset, csp: string): void {
  response.writeHead(200, {
    'content-type': asset.type,
    'content-length': asset.body.length,
    'cache-control': 'no-cache',
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
  });
  response.end(request.method === 'HEAD' ? undefined : asset.body);
}
