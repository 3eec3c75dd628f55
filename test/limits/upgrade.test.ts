import { request as httpRequest } from 'node:http';
import { describe, expect, it, onTestFinished } from 'vitest';
import { gql } from '../utils/http-client.ts';
import { startTestApp, type TestApp } from '../utils/test-app.ts';
import { signTestToken } from '../utils/tokens.ts';
import { within } from '../utils/wait.ts';
import { connectAuthed, connectRaw } from '../utils/ws-client.ts';
import { subscribeSse } from '../utils/sse-client.ts';
import { createRoom, ROOM_EVENTS, startBystander, token, upgradeStatus } from './helpers.ts';

/** Retries `attempt` (every 20 ms, at most 5 s) until it returns something: a slot that frees up. */
async function firstAccepted<T>(attempt: () => Promise<T | null>, what: string): Promise<T> {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const accepted = await within(attempt(), 5_000, what);
    if (accepted) return accepted;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out after 5000 ms waiting for ${what}`);
}

/** An SSE subscription sent with no Accept header at all (fetch always adds one): its status and content-type. */
function sseWithoutAccept(app: TestApp, roomId: string, jwt: string): Promise<{ status: number; contentType: string | undefined }> {
  return within(
    new Promise((resolve, reject) => {
      const req = httpRequest(app.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}` },
      });
      onTestFinished(() => {
        req.destroy();
      });
      req.once('response', (response) => {
        response.resume();
        resolve({ status: response.statusCode ?? 0, contentType: response.headers['content-type'] });
      });
      req.once('error', reject);
      req.end(JSON.stringify({ query: ROOM_EVENTS, variables: { roomId } }));
    }),
    5_000,
    'the response to an SSE subscription without Accept',
  );
}

describe('upgrade checks, before the protocol switch', () => {
  it('answers HTTP 403 to an Origin outside ALLOWED_ORIGINS and 101 to one inside', async () => {
    const app = await startTestApp({ ALLOWED_ORIGINS: 'https://chat.example, https://admin.example' });
    const allowed = await connectRaw(app.wsUrl, { headers: { origin: 'https://chat.example' } });
    await allowed.init(await token('alice'));
    expect(await upgradeStatus(app, { origin: 'https://evil.example' })).toBe(403);
    expect(await upgradeStatus(app, {})).toBe(403);
    expect(await upgradeStatus(app, { origin: 'https://admin.example' })).toBe(101);
    // The client that was let in is served as before.
    allowed.subscribe('q', '{ me { id } }');
    expect((await allowed.waitForNexts('q', 1))[0]).toEqual({ data: { me: { id: 'alice' } } });
  });

  it('answers HTTP 503 past MAX_CONNECTIONS and takes the next socket once one leaves', async () => {
    const app = await startTestApp({ MAX_CONNECTIONS: '2' });
    const bystander = await startBystander(app);
    const second = await connectAuthed(app.wsUrl, await token('bob'));
    await expect(connectRaw(app.wsUrl)).rejects.toThrow('HTTP 503');
    expect(await upgradeStatus(app)).toBe(503);
    await bystander.proveAlive();

    await second.close();
    const third = await firstAccepted(() => connectRaw(app.wsUrl).catch(() => null), 'a free slot');
    await third.init(await token('carol'));
    expect(third.isAcked()).toBe(true);
  });

  it('counts SSE subscriptions against MAX_CONNECTIONS: HTTP 503 for the next stream or socket', async () => {
    const app = await startTestApp({ MAX_CONNECTIONS: '2' });
    const bystander = await startBystander(app);
    const roomId = await createRoom(app, 'owner');
    const stream = await subscribeSse(app.graphqlUrl, ROOM_EVENTS, { roomId }, { token: await token('sse-user') });
    expect(stream.status).toBe(200);
    await stream.waitForNexts(1);

    const refused = await subscribeSse(app.graphqlUrl, ROOM_EVENTS, { roomId }, { token: await token('late') });
    expect(refused.status).toBe(503);
    expect(await upgradeStatus(app)).toBe(503);
    await bystander.proveAlive();

    await stream.close();
    const next = await firstAccepted(async () => {
      const attempt = await subscribeSse(app.graphqlUrl, ROOM_EVENTS, { roomId }, { token: await token('late') });
      return attempt.status === 200 ? attempt : null;
    }, 'a free slot for an SSE stream');
    await next.waitForNexts(1);
  });

  // Yoga streams a subscription as SSE for any Accept that matches text/event-stream (pitfalls §25).
  it('counts an SSE subscription whatever its Accept (missing, */*, text/*, upper case); queries are still served at capacity', async () => {
    const app = await startTestApp({ MAX_CONNECTIONS: '5' });
    const bystander = await startBystander(app);
    const roomId = await createRoom(app, 'owner');
    const streams = [];
    for (const accept of ['*/*', 'text/*', 'TEXT/EVENT-STREAM']) {
      const stream = await subscribeSse(
        app.graphqlUrl,
        ROOM_EVENTS,
        { roomId },
        { token: await token(`sse-${accept}`), headers: { accept } },
      );
      expect([accept, stream.status, stream.contentType]).toEqual([accept, 200, expect.stringMatching(/^text\/event-stream/)]);
      await stream.waitForNexts(1);
      streams.push(stream);
    }
    expect(await sseWithoutAccept(app, roomId, await token('no-accept'))).toEqual({
      status: 200,
      contentType: expect.stringMatching(/^text\/event-stream/),
    });

    // 1 socket + 4 streams: the instance is full, for streams and sockets alike.
    const refused = await subscribeSse(app.graphqlUrl, ROOM_EVENTS, { roomId }, { token: await token('late'), headers: { accept: '*/*' } });
    expect(refused.status).toBe(503);
    expect(await upgradeStatus(app)).toBe(503);
    // A query or mutation is not a stream: served even with `*/*` (fetch's default) while the instance is full.
    expect(await gql(app.graphqlUrl, '{ me { id } }', {}, await token('querier'))).toEqual({ data: { me: { id: 'querier' } } });
    await bystander.proveAlive();

    await streams[0]!.close();
    const next = await firstAccepted(async () => {
      const attempt = await subscribeSse(
        app.graphqlUrl,
        ROOM_EVENTS,
        { roomId },
        { token: await token('later'), headers: { accept: 'text/*' } },
      );
      return attempt.status === 200 ? attempt : null;
    }, 'the freed slot');
    await next.waitForNexts(1);
  });

  describe('MAX_CONNECTIONS_PER_ADDRESS', () => {
    const forwardedFor = (address: string) => ({ 'x-forwarded-for': address });

    it('refuses the next socket or SSE stream of one client address with HTTP 429 (TRUST_PROXY=1); other addresses go on', async () => {
      const app = await startTestApp({ MAX_CONNECTIONS_PER_ADDRESS: '2', TRUST_PROXY: '1' });
      const roomId = await createRoom(app, 'owner');
      // An upgrade that never sends connection_init holds its slot too (until CONNECTION_INIT_TIMEOUT_MS).
      const idle = await connectRaw(app.wsUrl, { headers: forwardedFor('203.0.113.7') });
      const stream = await subscribeSse(
        app.graphqlUrl,
        ROOM_EVENTS,
        { roomId },
        { token: await token('a'), headers: forwardedFor('203.0.113.7') },
      );
      expect(stream.status).toBe(200);

      expect(await upgradeStatus(app, forwardedFor('203.0.113.7'))).toBe(429);
      // Entries left of the trusted hop are the client's own writing: ignored.
      expect(await upgradeStatus(app, forwardedFor('198.51.100.1, 203.0.113.7'))).toBe(429);
      const refused = await subscribeSse(
        app.graphqlUrl,
        ROOM_EVENTS,
        { roomId },
        { token: await token('a2'), headers: forwardedFor('203.0.113.7') },
      );
      expect(refused.status).toBe(429);

      const other = await connectRaw(app.wsUrl, { headers: forwardedFor('203.0.113.8') });
      await other.init(await token('b'));
      const otherStream = await subscribeSse(
        app.graphqlUrl,
        ROOM_EVENTS,
        { roomId },
        { token: await token('b'), headers: forwardedFor('203.0.113.8') },
      );
      expect(otherStream.status).toBe(200);

      // A slot given back is a slot again.
      await idle.close();
      const again = await firstAccepted(
        () => connectRaw(app.wsUrl, { headers: forwardedFor('203.0.113.7') }).catch(() => null),
        'a freed slot',
      );
      await again.init(await token('a'));

      const metrics = await (await fetch(`${app.url}/metrics`)).text();
      expect(metrics).toMatch(/^chat_ws_upgrades_refused_total\{status="429"\} 3$/m);
    });

    it('does not trust X-Forwarded-For without TRUST_PROXY: the TCP peer is the address', async () => {
      const app = await startTestApp({ MAX_CONNECTIONS_PER_ADDRESS: '1' });
      await connectRaw(app.wsUrl, { headers: forwardedFor('203.0.113.7') });
      expect(await upgradeStatus(app, forwardedFor('203.0.113.8'))).toBe(429);
      expect(await upgradeStatus(app, {}, '127.0.0.2')).toBe(101);
    });
  });

  it('closes 1009 on a 2 MB frame and leaves the other sockets alone', async () => {
    const app = await startTestApp();
    const bystander = await startBystander(app);
    const abuser = await connectAuthed(app.wsUrl, await token('mallory'));
    abuser.send({ id: 'big', type: 'subscribe', payload: { query: `{ me { id } } # ${'x'.repeat(2 * 1024 * 1024)}` } });
    expect((await within(abuser.closed, 5_000, '1009')).code).toBe(1009);
    await bystander.proveAlive();
  });

  describe('failed connection_init attempts per address', () => {
    it('refuses upgrades from an address with HTTP 429 once its failures are used up; others and open sockets go on', async () => {
      const app = await startTestApp({ INIT_FAILURES_PER_ADDRESS: '3', INIT_FAILURE_WINDOW_MS: '60000' });
      const bystander = await startBystander(app);
      const stale = await signTestToken({ sub: 'stale' }, { expiresIn: '-1s' });
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const client = await connectRaw(app.wsUrl);
        client.init(stale).catch(() => {});
        expect((await within(client.closed, 5_000, '4403')).code).toBe(4403);
      }
      expect(await upgradeStatus(app)).toBe(429);
      await expect(connectRaw(app.wsUrl)).rejects.toThrow('HTTP 429');

      // Another address (any 127/8 address reaches the loopback listener on Linux) is not affected.
      const elsewhere = await connectRaw(app.wsUrl, { client: { localAddress: '127.0.0.2' } });
      await elsewhere.init(await token('dave'));
      expect(elsewhere.isAcked()).toBe(true);
      // The socket that was open all along keeps receiving.
      await bystander.proveAlive();

      const metrics = await (await fetch(`${app.url}/metrics`)).text();
      expect(metrics).toMatch(/^chat_ws_init_refused_total 3$/m);
      expect(metrics).toMatch(/^chat_ws_upgrades_refused_total\{status="429"\} 2$/m);
    });

    it('lets the address in again when the window ends', async () => {
      const app = await startTestApp({ INIT_FAILURES_PER_ADDRESS: '1', INIT_FAILURE_WINDOW_MS: '300' });
      const client = await connectRaw(app.wsUrl);
      client.init({ authorization: 'Bearer nope' }).catch(() => {});
      expect((await within(client.closed)).code).toBe(4403);
      expect(await upgradeStatus(app)).toBe(429);
      const later = await firstAccepted(() => connectRaw(app.wsUrl).catch(() => null), 'the window to end');
      await later.init(await token('erin'));
      expect(later.isAcked()).toBe(true);
    });
  });
});
