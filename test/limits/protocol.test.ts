import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startTestApp } from '../utils/test-app.ts';
import { within } from '../utils/wait.ts';
import { connectAuthed, connectRaw } from '../utils/ws-client.ts';
import { ROOM_EVENTS, startBystander, token } from './helpers.ts';

describe('protocol abuse is answered as graphql-ws defines, never 4500', () => {
  const cases: Array<[string, number, (send: (frame: object | string) => void, authed: boolean) => void, boolean]> = [
    ['invalid JSON', 4400, (send) => send('{"type": "subscribe", '), false],
    ['a frame without a type', 4400, (send) => send({ id: '1' }), false],
    ['a server-only message (next)', 4400, (send) => send({ id: '1', type: 'next', payload: {} }), true],
    ['subscribe before connection_ack', 4401, (send) => send({ id: '1', type: 'subscribe', payload: { query: '{ me { id } }' } }), false],
    ['a second connection_init', 4429, (send) => send({ type: 'connection_init', payload: {} }), true],
  ];

  it.each(cases)('%s -> %i', async (_case, expected, abuse, authed) => {
    const app = await startTestApp();
    const bystander = await startBystander(app);
    const abuser = authed ? await connectAuthed(app.wsUrl, await token('mallory')) : await connectRaw(app.wsUrl);
    abuse(abuser.send, authed);
    expect((await within(abuser.closed, 5_000, `close ${expected}`)).code).toBe(expected);
    await bystander.proveAlive();
  });

  it('a duplicate operation id -> 4409', async () => {
    const app = await startTestApp();
    const bystander = await startBystander(app);
    const abuser = await connectAuthed(app.wsUrl, await token('mallory'));
    abuser.subscribe('dup', ROOM_EVENTS, { roomId: bystander.roomId });
    await abuser.waitForNexts('dup', 1);
    abuser.subscribe('dup', ROOM_EVENTS, { roomId: bystander.roomId });
    expect((await within(abuser.closed, 5_000, '4409')).code).toBe(4409);
    await bystander.proveAlive();
  });

  it('no connection_init within CONNECTION_INIT_TIMEOUT_MS -> 4408', async () => {
    const app = await startTestApp({ CONNECTION_INIT_TIMEOUT_MS: '200' });
    const bystander = await startBystander(app);
    const idle = await connectRaw(app.wsUrl);
    expect((await within(idle.closed, 5_000, '4408')).code).toBe(4408);
    await bystander.proveAlive();
  });

  it('a hung JWKS endpoint: connection_init is answered 4408 within CONNECTION_INIT_TIMEOUT_MS, the server stays responsive', async () => {
    // A key server that accepts the request and never answers.
    const hung: Server = createServer(() => {});
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    onTestFinished(
      () =>
        new Promise<void>((resolve) => {
          hung.closeAllConnections();
          hung.close(() => resolve());
        }),
    );
    const jwksUrl = `http://127.0.0.1:${(hung.address() as AddressInfo).port}/.well-known/jwks.json`;
    const app = await startTestApp({ JWT_SECRET: '', JWKS_URL: jwksUrl, CONNECTION_INIT_TIMEOUT_MS: '300' });

    // Well-formed RS256 header, so verification reaches the key fetch (a bad signature is found only after it).
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const jwt = `${encode({ alg: 'RS256', kid: 'k1', typ: 'JWT' })}.${encode({ sub: 'u1', exp: Math.floor(Date.now() / 1000) + 60 })}.c2ln`;
    const clients = await Promise.all([connectRaw(app.wsUrl), connectRaw(app.wsUrl)]);
    for (const client of clients) client.send({ type: 'connection_init', payload: { authorization: `Bearer ${jwt}` } });
    for (const client of clients) {
      const { code } = await within(client.closed, 5_000, '4408');
      expect(code).toBe(4408);
      expect(client.isAcked()).toBe(false);
    }
    // Nobody can authenticate while the key server hangs; what other clients need is a live process.
    const health = await fetch(`${app.url}/health`, { signal: AbortSignal.timeout(2_000) });
    expect(health.status).toBe(200);
    // A key server that hangs is not the clients' fault: their addresses are not charged a failed init.
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/^chat_ws_init_refused_total 0$/m);
  });
});
