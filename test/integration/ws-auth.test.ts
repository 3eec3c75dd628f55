import { describe, expect, it } from 'vitest';
import { startTestApp } from '../utils/test-app.ts';
import { signTestToken, unsignedToken } from '../utils/tokens.ts';
import { connectRaw } from '../utils/ws-client.ts';
import { within } from '../utils/wait.ts';

const FORBIDDEN = 4403;

describe('connection_init authentication', () => {
  const refused: Array<[string, () => Promise<Record<string, unknown> | null>]> = [
    ['no payload', async () => null],
    ['no authorization', async () => ({})],
    ['garbage', async () => ({ authorization: 'Bearer not-a-jwt' })],
    ['a number', async () => ({ authorization: 42 })],
    [
      'the wrong secret',
      async () => ({
        authorization: `Bearer ${await signTestToken({ sub: 'u1' }, { secret: 'another-secret-0123456789abcdef0123456789' })}`,
      }),
    ],
    ['alg none', async () => ({ authorization: `Bearer ${unsignedToken({ sub: 'u1', exp: Math.floor(Date.now() / 1000) + 3600 })}` })],
    ['HS512 with the right secret', async () => ({ authorization: `Bearer ${await signTestToken({ sub: 'u1' }, { alg: 'HS512' })}` })],
    ['HS384 with the right secret', async () => ({ authorization: `Bearer ${await signTestToken({ sub: 'u1' }, { alg: 'HS384' })}` })],
    ['an expired token', async () => ({ authorization: `Bearer ${await signTestToken({ sub: 'u1' }, { expiresIn: '-1s' })}` })],
    ['no exp', async () => ({ authorization: `Bearer ${await signTestToken({ sub: 'u1' }, { expiresIn: null })}` })],
    ['no sub', async () => ({ authorization: `Bearer ${await signTestToken({ name: 'nobody' })}` })],
  ];

  it.each(refused)('closes 4403 without ack for %s', async (_case, payload) => {
    const app = await startTestApp();
    const client = await connectRaw(app.wsUrl);
    const initPayload = await payload();
    client.send(initPayload === null ? { type: 'connection_init' } : { type: 'connection_init', payload: initPayload });
    const { code } = await within(client.closed, 5_000, 'close');
    expect(code).toBe(FORBIDDEN);
    expect(client.isAcked()).toBe(false);
    expect(client.received.map((m) => m.type)).not.toContain('connection_ack');
  });

  it('checks issuer and audience when configured', async () => {
    const app = await startTestApp({ JWT_ISSUER: 'https://issuer.test', JWT_AUDIENCE: 'chat' });
    const wrongIssuer = await connectRaw(app.wsUrl);
    wrongIssuer.init(await signTestToken({ sub: 'u1' }, { issuer: 'https://other.test', audience: 'chat' })).catch(() => {});
    expect((await within(wrongIssuer.closed)).code).toBe(FORBIDDEN);

    const wrongAudience = await connectRaw(app.wsUrl);
    wrongAudience.init(await signTestToken({ sub: 'u1' }, { issuer: 'https://issuer.test', audience: 'other' })).catch(() => {});
    expect((await within(wrongAudience.closed)).code).toBe(FORBIDDEN);

    const right = await connectRaw(app.wsUrl);
    await right.init(await signTestToken({ sub: 'u1' }, { issuer: 'https://issuer.test', audience: 'chat' }));
    expect(right.isAcked()).toBe(true);
  });

  it('acknowledges a valid token and answers as that user', async () => {
    const app = await startTestApp();
    const client = await connectRaw(app.wsUrl);
    await client.init(await signTestToken({ sub: 'alice', name: 'Alice' }));
    client.subscribe('q1', '{ me { id name } }');
    const [result] = await client.waitForNexts('q1', 1);
    expect(result).toEqual({ data: { me: { id: 'alice', name: 'Alice' } } });
    await client.waitFor((m) => m.id === 'q1' && m.type === 'complete');
  });

  it('falls back to sub for the name', async () => {
    const app = await startTestApp();
    const client = await connectRaw(app.wsUrl);
    await client.init(await signTestToken({ sub: 'bob' }));
    client.subscribe('q1', '{ me { id name } }');
    expect((await client.waitForNexts('q1', 1))[0]).toEqual({ data: { me: { id: 'bob', name: 'bob' } } });
  });

  it('closes a live socket with 4403 when its token expires', async () => {
    const app = await startTestApp();
    const client = await connectRaw(app.wsUrl);
    await client.init(await signTestToken({ sub: 'u1' }, { expiresIn: Math.floor(Date.now() / 1000) + 2 }));
    expect(client.isAcked()).toBe(true);
    const { code } = await within(client.closed, 5_000, 'expiry close');
    expect(code).toBe(FORBIDDEN);
  });

  it('keeps a socket whose token expires in 30 days open (no timer overflow)', async () => {
    const app = await startTestApp();
    const client = await connectRaw(app.wsUrl);
    await client.init(await signTestToken({ sub: 'u1' }, { expiresIn: '30d' }));
    client.subscribe('q1', '{ me { id } }');
    await client.waitForNexts('q1', 1);
    // A 1 ms overflow timer would already have closed it by the time a second query round-trips.
    client.subscribe('q2', '{ me { id } }');
    await client.waitForNexts('q2', 1);
    expect(client.socket.readyState).toBe(client.socket.OPEN);
  });

  it('closes 4408 when connection_init never comes', async () => {
    const app = await startTestApp({ CONNECTION_INIT_TIMEOUT_MS: '100' });
    const client = await connectRaw(app.wsUrl);
    expect((await within(client.closed)).code).toBe(4408);
  });

  it('closes 4408 with graphql-ws reason the socket without connection_init, and only that one', async () => {
    const app = await startTestApp({ CONNECTION_INIT_TIMEOUT_MS: '500' });
    const token = await signTestToken({ sub: 'u1' });
    const authed = await connectRaw(app.wsUrl);
    await authed.init(token);
    // Opened later, so its deadline is the later one: once it is closed, the authed socket's has passed too.
    const idle = await connectRaw(app.wsUrl);
    expect(await within(idle.closed, 5_000, '4408')).toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
    authed.subscribe('q1', '{ me { id } }');
    expect(await authed.waitForNexts('q1', 1)).toEqual([{ data: { me: { id: 'u1' } } }]);
    expect(authed.socket.readyState).toBe(authed.socket.OPEN);
  });
});
