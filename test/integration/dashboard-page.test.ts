import { describe, expect, it } from 'vitest';
import { startTestApp } from '../utils/test-app.ts';
import { connectAuthed } from '../utils/ws-client.ts';

const postJson = (url: string) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', signal: AbortSignal.timeout(5_000) });

describe('dashboard page and its dev admin token', () => {
  it('serves the static page and uPlot from this origin whatever the key, and mints no admin token with a configured key', async () => {
    const app = await startTestApp(); // JWT_SECRET configured, as in production
    for (const [path, type] of [
      ['/dashboard', 'text/html'],
      ['/dashboard/dashboard.js', 'text/javascript'],
      ['/dashboard/uplot.js', 'text/javascript'],
      ['/dashboard/uplot.css', 'text/css'],
    ] as const) {
      const response = await fetch(`${app.url}${path}`, { signal: AbortSignal.timeout(5_000) });
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toContain(type);
      expect(response.headers.get('content-security-policy'), path).toContain("script-src 'self'");
      // Our own files name no other origin (the browser test also fails any request that leaves the machine).
      if (!path.includes('uplot'))
        expect(await response.text(), path).not.toMatch(/(src|href)="https?:|from ['"]https?:|fetch\(['"]https?:/);
    }
    expect((await postJson(`${app.url}/dev/admin-token`)).status).toBe(404);
  });

  it('with the built-in dev secret, POST /dev/admin-token gives a token that opens the dashboard subscription', async () => {
    const app = await startTestApp({ JWT_SECRET: '' });
    const response = await postJson(`${app.url}/dev/admin-token`);
    expect(response.status).toBe(200);
    const { token } = (await response.json()) as { token: string };
    const client = await connectAuthed(app.wsUrl, token);
    client.subscribe('d', 'subscription { dashboard { __typename ... on DashboardSnapshot { totals { instances } } } }');
    const [first] = await client.waitForNexts('d', 1, 10_000);
    expect(first).toEqual({ data: { dashboard: { __typename: 'DashboardSnapshot', totals: { instances: 1 } } } });
    // Only JSON bodies, as /dev/token: a cross-site form cannot post one without a preflight.
    const form = await fetch(`${app.url}/dev/admin-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    });
    expect(form.status).toBe(415);
  });
});
