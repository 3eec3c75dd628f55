import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { gql } from '../utils/http-client.ts';
import { startTestApp } from '../utils/test-app.ts';

/** The built-in dev secret: what `npm start` uses without JWT_SECRET (the test app sets one by default). */
const DEV_SECRET = { JWT_SECRET: '' };

const postToken = (url: string, body: string, type = 'application/json') =>
  fetch(`${url}/dev/token`, { method: 'POST', headers: { 'content-type': type }, body, signal: AbortSignal.timeout(5_000) });

describe('POST /dev/token (the demo page login)', () => {
  it('signs a token for a name with the built-in dev secret, the configured issuer and audience', async () => {
    const app = await startTestApp({ ...DEV_SECRET, JWT_ISSUER: 'https://issuer.test', JWT_AUDIENCE: 'chat' });
    const response = await postToken(app.url, JSON.stringify({ name: '  Ada Lovelace ' }));
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const { token, userId } = (await response.json()) as { token: string; userId: string };
    expect(userId).toBe('ada-lovelace');
    const me = await gql(app.graphqlUrl, '{ me { id name } }', {}, token);
    expect(me).toEqual({ data: { me: { id: 'ada-lovelace', name: 'Ada Lovelace' } } });
  });

  // The lifetimes the README states: 1 hour from POST /dev/token, 12 hours from `npm run --silent token`, whose output
  // is the token alone (no npm banner), so `TOKEN=$(npm run --silent token -- ada)` works in a script.
  it('lives 1 hour from POST /dev/token and 12 hours from npm run --silent token', async () => {
    const app = await startTestApp(DEV_SECRET);
    const { token } = (await (await postToken(app.url, JSON.stringify({ name: 'Ada' }))).json()) as { token: string };
    const lifetime = (jwt: string) => {
      const { iat, exp } = decodeJwt(jwt);
      return (exp ?? 0) - (iat ?? 0);
    };
    expect(lifetime(token)).toBe(3_600);
    const cli = spawnSync('npm', ['run', '--silent', 'token', '--', 'ada', 'Ada'], {
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(lifetime(cli.stdout.trim())).toBe(12 * 3_600);
    expect(await gql(app.graphqlUrl, '{ me { id name } }', {}, cli.stdout.trim())).toEqual({ data: { me: { id: 'ada', name: 'Ada' } } });
  });

  it.each([
    ['an empty name', JSON.stringify({ name: '   ' }), 'application/json', 400],
    ['no letter or digit', JSON.stringify({ name: '!!!' }), 'application/json', 400],
    ['a name too long', JSON.stringify({ name: 'x'.repeat(41) }), 'application/json', 400],
    ['not JSON', '{name', 'application/json', 400],
    ['a form post (CSRF)', 'name=mallory', 'application/x-www-form-urlencoded', 415],
    ['a huge body', JSON.stringify({ name: 'x'.repeat(5_000) }), 'application/json', 413],
  ])('refuses %s', async (_case, body, type, status) => {
    const app = await startTestApp(DEV_SECRET);
    expect((await postToken(app.url, body, type)).status).toBe(status);
  });

  const publicKeyPem = () =>
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  // Minting tokens over HTTP with a real key would let anyone be anyone: only the dev secret allows it (contract, Auth).
  it.each([
    ['in production', () => ({ NODE_ENV: 'production' })],
    ['with DEV_TOKENS=false', () => ({ ...DEV_SECRET, DEV_TOKENS: 'false' })],
    ['with JWT_SECRET set (NODE_ENV=test)', () => ({})],
    ['with JWT_SECRET set and NODE_ENV unset', () => ({ NODE_ENV: '' })],
    ['with JWT_PUBLIC_KEY set', () => ({ JWT_SECRET: '', JWT_PUBLIC_KEY: publicKeyPem() })],
    ['with JWKS_URL set', () => ({ JWT_SECRET: '', JWKS_URL: 'http://127.0.0.1:9/jwks.json' })],
  ])('is not served %s, and neither is the demo page', async (_case, env) => {
    const app = await startTestApp(env());
    expect((await postToken(app.url, JSON.stringify({ name: 'Eve' }))).status).toBe(404);
    expect((await fetch(`${app.url}/`, { signal: AbortSignal.timeout(5_000) })).status).toBe(404);
  });

  it('serves the demo page and its script with a same-origin content security policy', async () => {
    const app = await startTestApp(DEV_SECRET);
    const page = await fetch(`${app.url}/`, { signal: AbortSignal.timeout(5_000) });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(await page.text()).toContain('<script type="module" src="/demo/chat.js">');
    const script = await fetch(`${app.url}/demo/chat.js`, { signal: AbortSignal.timeout(5_000) });
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toContain("import { resumable } from '/demo/client/resumable.js';");
    // What it imports comes from this origin too: the helper as JavaScript, and the packages' own ES module builds.
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self' 'sha256-[\w+/=]+';/);
    for (const path of ['/demo/client/resumable.js', '/demo/vendor/graphql/index.mjs', '/demo/vendor/graphql-ws/client.js']) {
      const module = await fetch(`${app.url}${path}`, { signal: AbortSignal.timeout(5_000) });
      expect(module.status, path).toBe(200);
      expect(module.headers.get('content-type'), path).toBe('text/javascript; charset=utf-8');
      expect(await module.text(), path).toMatch(/^(import|export|\/\*\*|\/\/)/m);
    }
    expect((await fetch(`${app.url}/demo/vendor/graphql/package.json`, { signal: AbortSignal.timeout(5_000) })).status).not.toBe(200);
  });
});
