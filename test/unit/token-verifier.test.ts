import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../../src/auth/token-verifier.ts';

const SECRET = 'verifier-test-secret-0123456789abcdef0123456789';
const sign = (sub: string, expiresInSeconds: number) =>
  new SignJWT({ name: sub })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSeconds)
    .sign(new TextEncoder().encode(SECRET));

describe('token verifier', () => {
  it('tells a remembered token without a signature check, and refuses it once expired, as verify does', async () => {
    const verifier = await createTokenVerifier({ kind: 'secret', secret: SECRET, devSecret: false });
    const token = await sign('alice', 1);
    expect(verifier.known(`Bearer ${token}`)).toBeUndefined();
    expect(verifier.known(undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(verifier.known('  ')).toEqual({ ok: false, reason: 'missing' });

    const verified = await verifier.verify(`Bearer ${token}`);
    expect(verified).toMatchObject({ ok: true, viewer: { id: 'alice', name: 'alice' } });
    expect(verifier.known(`Bearer ${token}`)).toEqual(verified);
    expect(verifier.known(token)).toEqual(verified);

    // A WebSocket's token is verified without being remembered.
    const socketToken = await sign('bob', 60);
    await verifier.verify(socketToken, { remember: false });
    expect(verifier.known(socketToken)).toBeUndefined();

    const expiresAt = (verified as { viewer: { expiresAt: number } }).viewer.expiresAt;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 20));
    expect(verifier.known(`Bearer ${token}`)).toEqual({ ok: false, reason: 'invalid' });
    expect(await verifier.verify(`Bearer ${token}`)).toEqual({ ok: false, reason: 'invalid' });
  });
});
