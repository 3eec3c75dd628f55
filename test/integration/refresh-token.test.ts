import { describe, expect, it } from 'vitest';
import { ROOM_EVENTS, createRoom, eventsOf, send, user } from '../utils/chat.ts';
import { errorCodes, gql } from '../utils/http-client.ts';
import { startInstance } from '../utils/instance.ts';
import { startTestApp } from '../utils/test-app.ts';
import { signTestToken } from '../utils/tokens.ts';
import { waitFor, within } from '../utils/wait.ts';
import { connectAuthed, type RawClient } from '../utils/ws-client.ts';

// CONTRACT, Auth, "In-band token refresh": over WebSocket `refreshToken` replaces the socket's token (same checks
// as connection_init, same user, the 4403 deadline moves to the new exp); over HTTP it only verifies.

const REFRESH = 'mutation Refresh($token: String!) { refreshToken(token: $token) { userId expiresAt } }';
const FORBIDDEN_CLOSE = 4403;

/** A token of `sub` that expires `seconds` from now, with its expiry in epoch ms (`exp` has whole seconds). */
async function tokenExpiringIn(sub: string, seconds: number): Promise<{ token: string; expiresAt: number }> {
  const exp = Math.floor(Date.now() / 1000) + seconds;
  return { token: await signTestToken({ sub, name: sub }, { expiresIn: exp }), expiresAt: exp * 1000 };
}

/** Sends `refreshToken` over the socket as operation `id` and returns its one result. */
async function refreshOver(client: RawClient, id: string, token: string) {
  client.subscribe(id, REFRESH, { token });
  const [result] = await client.waitForNexts(id, 1);
  return result as {
    data?: { refreshToken: { userId: string; expiresAt: string } } | null;
    errors?: Array<{ extensions?: { code?: string } }>;
  };
}

/** `{ me { id } }` over the socket: who the socket's new operations run as. */
async function meOver(client: RawClient, id: string): Promise<unknown> {
  client.subscribe(id, '{ me { id } }');
  return (await client.waitForNexts(id, 1))[0];
}

/** A socket that kept its ~2-3 s token, no refresh: its 4403 close is the moment the old deadline passed. */
async function control(wsUrl: string, token: string) {
  const client = await connectAuthed(wsUrl, token);
  return within(client.closed, 10_000, 'the control socket to close at its expiry');
}

describe('refreshToken over WebSocket', () => {
  it('keeps a socket open and delivering past its first token, then closes it 4403 at the new exp', async () => {
    const app = await startTestApp();
    const sender = await user('sender');
    const roomId = await createRoom(app.graphqlUrl, sender.token);
    const first = await tokenExpiringIn('reader', 3);
    const reader = await connectAuthed(app.wsUrl, first.token);
    const oldDeadline = control(app.wsUrl, first.token);
    reader.subscribe('s', ROOM_EVENTS, { roomId });
    await reader.waitForNexts('s', 1); // its own MemberJoined: live

    const second = await tokenExpiringIn('reader', 6);
    expect(await refreshOver(reader, 'r1', second.token)).toEqual({
      data: { refreshToken: { userId: 'reader', expiresAt: new Date(second.expiresAt).toISOString() } },
    });

    // The first token is past: a socket still on it is closed, the refreshed one delivers what is sent now.
    expect((await oldDeadline).code).toBe(FORBIDDEN_CLOSE);
    expect(Date.now()).toBeGreaterThanOrEqual(first.expiresAt);
    const late = await send(app.graphqlUrl, sender.token, roomId, 'sent after the first token expired');
    await reader.waitFor((m) => m.id === 's' && m.payload?.data?.roomEvents?.message?.id === late.id);
    expect(
      eventsOf(reader, 's')
        .filter((e) => e.__typename === 'MessageSent')
        .map((e) => e.message?.body),
    ).toEqual(['sent after the first token expired']);
    expect(await meOver(reader, 'q1')).toEqual({ data: { me: { id: 'reader' } } });
    expect(reader.socket.readyState).toBe(reader.socket.OPEN);

    // And the new token's expiry is the socket's deadline now.
    expect(await within(reader.closed, 10_000, 'the close at the new exp')).toEqual({ code: FORBIDDEN_CLOSE, reason: 'Token expired' });
    expect(Date.now()).toBeGreaterThanOrEqual(second.expiresAt);
  });

  it("refuses another user's token with FORBIDDEN: the socket keeps its user and closes at the old deadline", async () => {
    const app = await startTestApp();
    const first = await tokenExpiringIn('u1', 3);
    const client = await connectAuthed(app.wsUrl, first.token);
    const other = await tokenExpiringIn('u2', 3_600);

    const refused = await refreshOver(client, 'r1', other.token);
    expect(refused.data).toBeNull();
    expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(await meOver(client, 'q1')).toEqual({ data: { me: { id: 'u1' } } });

    // Closed by the first token's deadline, an hour before the other token's.
    expect(await within(client.closed, 10_000, 'the close at the old exp')).toEqual({ code: FORBIDDEN_CLOSE, reason: 'Token expired' });
    expect(Date.now()).toBeGreaterThanOrEqual(first.expiresAt);
  });

  it('refuses a bad, badly signed or expired token with UNAUTHENTICATED: the old deadline holds', async () => {
    const app = await startTestApp();
    const first = await tokenExpiringIn('u1', 3);
    const client = await connectAuthed(app.wsUrl, first.token);
    const refused = [
      'not-a-jwt',
      await signTestToken({ sub: 'u1' }, { secret: 'another-secret-0123456789abcdef0123456789' }),
      await signTestToken({ sub: 'u1' }, { alg: 'HS512' }),
      await signTestToken({ sub: 'u1' }, { expiresIn: '-1s' }),
      await signTestToken({ sub: 'u1' }, { expiresIn: null }),
    ];
    for (const [index, token] of refused.entries()) {
      const result = await refreshOver(client, `r${index}`, token);
      expect(result.data, `refused token ${index}`).toBeNull();
      expect(
        result.errors?.map((e) => e.extensions?.code),
        `refused token ${index}`,
      ).toEqual(['UNAUTHENTICATED']);
    }
    expect(client.socket.readyState).toBe(client.socket.OPEN);
    expect(await within(client.closed, 10_000, 'the close at the old exp')).toEqual({ code: FORBIDDEN_CLOSE, reason: 'Token expired' });
    expect(Date.now()).toBeGreaterThanOrEqual(first.expiresAt);
  });
});

describe('refreshToken over HTTP', () => {
  it('only verifies the given token, with or without an Authorization header', async () => {
    const app = await startTestApp();
    const fresh = await tokenExpiringIn('u1', 600);
    const expected = { data: { refreshToken: { userId: 'u1', expiresAt: new Date(fresh.expiresAt).toISOString() } } };
    expect(await gql(app.graphqlUrl, REFRESH, { token: fresh.token })).toEqual(expected);
    expect(await gql(app.graphqlUrl, REFRESH, { token: `Bearer ${fresh.token}` })).toEqual(expected);
    // Nothing to extend over HTTP: another user's header changes nothing either.
    expect(await gql(app.graphqlUrl, REFRESH, { token: fresh.token }, (await user('u2')).token)).toEqual(expected);

    const expired = await gql(app.graphqlUrl, REFRESH, { token: await signTestToken({ sub: 'u1' }, { expiresIn: '-1s' }) });
    expect(errorCodes(expired)).toEqual(['UNAUTHENTICATED']);
    expect(expired.data).toBeNull();
    expect(errorCodes(await gql(app.graphqlUrl, REFRESH, { token: 'x.y.z' }))).toEqual(['UNAUTHENTICATED']);
  });
});

describe('refreshToken logs', () => {
  it('say that a token was refreshed, and never contain a token', async () => {
    const instance = await startInstance({ env: { LOG_LEVEL: 'debug' } });
    const first = await tokenExpiringIn('logan', 600);
    const client = await connectAuthed(instance.wsUrl, first.token);
    const tokens = [
      (await tokenExpiringIn('logan', 900)).token,
      (await tokenExpiringIn('someone-else', 900)).token,
      await signTestToken({ sub: 'logan' }, { expiresIn: '-1s' }),
    ];
    for (const [index, token] of tokens.entries()) await refreshOver(client, `r${index}`, token);
    // Inlined in the document as well as passed as a variable: neither may reach a log line.
    client.subscribe('inline', `mutation { refreshToken(token: "${tokens[2]}") { userId } }`);
    await client.waitForNexts('inline', 1);
    await gql(instance.graphqlUrl, REFRESH, { token: tokens[2] });
    await gql(instance.graphqlUrl, `mutation { refreshToken(token: "${tokens[2]}") { userId } }`);
    await client.close();
    // The last line this socket causes: everything before it has been written too.
    await waitFor(() => instance.output().includes('"msg":"socket closed"'), 5_000, 'the close to be logged');

    const output = instance.output();
    expect(output).toMatch(/token refreshed in band/);
    for (const token of [first.token, ...tokens]) {
      for (const part of token.split('.')) expect(output).not.toContain(part);
    }
  });
});
