import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { answersHealth } from '../utils/http-client.ts';
import { startInstance, type Instance } from '../utils/instance.ts';
import { openRawWebSocket, upgradeRequest } from '../utils/raw-websocket.ts';
import { waitFor, within } from '../utils/wait.ts';
import { connectRaw } from '../utils/ws-client.ts';
import { token } from './helpers.ts';

const ATTEMPTS = 40;
const ORIGIN = 'https://chat.example';

/**
 * Sends an upgrade request and resets the connection (RST) as soon as it is written, from `localAddress`: the
 * server's answer (a refusal or the 101) then meets a reset socket (pitfalls §22).
 */
function upgradeAndReset(instance: Instance, path: string, headers: Record<string, string>, localAddress = '127.0.0.1'): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: instance.port, localAddress });
      socket.on('error', () => {});
      socket.once('connect', () => {
        socket.write(upgradeRequest(path, headers), () => {
          socket.resetAndDestroy();
          resolve();
        });
      });
      socket.once('close', () => resolve());
    }),
    5_000,
    'an upgrade and a reset',
  );
}

async function resetMany(instance: Instance, path: string, headers: Record<string, string>, localAddress?: string) {
  for (let i = 0; i < ATTEMPTS; i += 1) await upgradeAndReset(instance, path, headers, localAddress);
}

/** Still alive: answers /health, has not exited, logged no unhandled error. */
async function expectAlive(instance: Instance) {
  let exitedWith: number | string | null = null;
  void instance.exited.then((code) => (exitedWith = code));
  await waitFor(() => answersHealth(instance.url), 5_000, '/health after the resets');
  expect(exitedWith, instance.output()).toBeNull();
  expect(instance.output()).not.toMatch(/Unhandled 'error' event|ECONNRESET|EPIPE/);
}

describe('an upgrade followed by a TCP reset (pitfalls §22)', () => {
  it('never kills the process, whatever the upgrade gets: 404, 403, 429, 503 or 101', async () => {
    const instance = await startInstance({
      env: { ALLOWED_ORIGINS: ORIGIN, MAX_CONNECTIONS: '1', INIT_FAILURES_PER_ADDRESS: '1', LOG_LEVEL: 'warn' },
    });
    const good = { origin: ORIGIN };

    await resetMany(instance, '/nope', good); // 404
    await resetMany(instance, '/graphql', { origin: 'https://evil.example' }); // 403
    await resetMany(instance, '/graphql', good); // accepted, then reset mid-handshake
    await expectAlive(instance);

    // One refused token locks 127.0.0.2 out: its upgrades get 429.
    const refused = await connectRaw(instance.wsUrl, { headers: good, client: { localAddress: '127.0.0.2' } });
    refused.send({ type: 'connection_init', payload: { authorization: 'Bearer nope' } });
    expect((await within(refused.closed, 5_000, '4403')).code).toBe(4403);
    await resetMany(instance, '/graphql', good, '127.0.0.2'); // 429
    await expectAlive(instance);

    // The one slot taken: every other upgrade gets 503.
    const holder = await connectRaw(instance.wsUrl, { headers: good, client: { localAddress: '127.0.0.3' } });
    await holder.init(await token('holder'));
    await resetMany(instance, '/graphql', good, '127.0.0.4'); // 503
    await expectAlive(instance);
    expect(holder.socket.readyState).toBe(holder.socket.OPEN);
  });

  it('never kills the process while it shuts down (503 to upgrades) and still exits 0', async () => {
    const instance = await startInstance({ env: { LOG_LEVEL: 'info' } });
    // A request whose headers are not complete yet is not idle: shutdown does not cut it at once.
    const pending = Array.from({ length: 10 }, () => {
      const socket = connect({ host: '127.0.0.1', port: instance.port });
      socket.on('error', () => {});
      return socket;
    });
    await Promise.all(pending.map((socket) => within(new Promise((resolve) => socket.once('connect', resolve)), 5_000, 'connect')));
    // A socket that never answers its close frame keeps shutdown busy for a while (until the close grace).
    const holder = await openRawWebSocket(instance.wsUrl);
    holder.sendJson({ type: 'connection_init', payload: { authorization: `Bearer ${await token('holder')}` } });
    await holder.waitFor((m) => m.type === 'connection_ack');
    const request = upgradeRequest('/graphql');
    const split = request.indexOf('Upgrade:');
    for (const socket of pending) socket.write(request.slice(0, split));

    instance.kill('SIGTERM');
    await within(holder.closeFrame, 5_000, 'the 1001 close frame');
    for (const socket of pending) socket.write(request.slice(split), () => socket.resetAndDestroy());
    expect(await within(instance.exited, 15_000, 'the exit')).toBe(0);
    expect(instance.output()).not.toMatch(/Unhandled 'error' event|ECONNRESET|EPIPE/);
  });
});
