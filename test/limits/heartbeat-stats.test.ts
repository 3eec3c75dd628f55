import { describe, expect, it } from 'vitest';
import { gql } from '../utils/http-client.ts';
import { startTestApp } from '../utils/test-app.ts';
import { waitFor, within } from '../utils/wait.ts';
import { connectAuthed, connectRaw } from '../utils/ws-client.ts';
import { ROOM_EVENTS, eventsOf, startBystander, token } from './helpers.ts';

const STATS = 'subscription { serverStats { at instances connections subscriptions messagesPerSecond deliveriesPerSecond } }';

describe('heartbeat', () => {
  it('terminates a socket that stops answering pings; its presence is left through the clean-close path', async () => {
    const app = await startTestApp({ HEARTBEAT_INTERVAL_MS: '200' });
    const bystander = await startBystander(app);
    // ws answers pings by itself; `autoPong: false` makes this client a peer that is gone without a FIN.
    const zombie = await connectRaw(app.wsUrl, { client: { autoPong: false } });
    await zombie.init(await token('zombie'));
    zombie.subscribe('room', ROOM_EVENTS, { roomId: bystander.roomId });
    await bystander.client.waitFor(
      (m) =>
        m.id === 'bystander' &&
        m.payload?.data?.roomEvents?.__typename === 'MemberJoined' &&
        m.payload.data.roomEvents.user.id === 'zombie',
    );

    // Terminated without a close frame: the client sees 1006.
    expect((await within(zombie.closed, 5_000, 'the reaping')).code).toBe(1006);
    await bystander.client.waitFor(
      (m) =>
        m.id === 'bystander' && m.payload?.data?.roomEvents?.__typename === 'MemberLeft' && m.payload.data.roomEvents.user.id === 'zombie',
    );
    const online = await gql<{ room: { online: Array<{ user: { id: string } }> } }>(
      app.graphqlUrl,
      'query($id: ID!) { room(id: $id) { online { user { id } } } }',
      { id: bystander.roomId },
      await token('bystander'),
    );
    expect(online.data!.room.online.map((p) => p.user.id)).toEqual(['bystander']);
    // Many sweeps later, the client that answers its pings is still there and receiving.
    await bystander.proveAlive();
    expect(eventsOf(bystander.client, 'bystander').filter((e) => e?.__typename === 'MemberLeft')).toHaveLength(1);
  });
});

describe('serverStats', () => {
  it('gives an admin a snapshot at once, then more (one a second)', async () => {
    const app = await startTestApp();
    const admin = await connectAuthed(app.wsUrl, await token('root', { roles: ['admin'] }));
    admin.subscribe('stats', STATS);
    const [first, second] = await admin.waitForNexts('stats', 2, 5_000);
    for (const snapshot of [first, second]) {
      expect(snapshot.errors).toBeUndefined();
      expect(snapshot.data.serverStats).toEqual({
        at: expect.any(String),
        instances: 1,
        connections: expect.any(Number),
        subscriptions: expect.any(Number),
        messagesPerSecond: expect.any(Number),
        deliveriesPerSecond: expect.any(Number),
      });
    }
    expect(first.data.serverStats.connections).toBeGreaterThanOrEqual(1);
    expect(Date.parse(second.data.serverStats.at)).toBeGreaterThan(Date.parse(first.data.serverStats.at));
  });

  it('answers FORBIDDEN to a token without the admin role, and the socket goes on', async () => {
    const app = await startTestApp();
    const user = await connectAuthed(app.wsUrl, await token('joe', { roles: ['user'] }));
    user.subscribe('stats', STATS);
    // A refusal inside the resolver: one `next` with the error and no data, then `complete` (not an `error` frame,
    // which graphql-ws keeps for operations that never started).
    await user.waitFor((m) => m.id === 'stats' && m.type === 'complete');
    expect(user.received.filter((m) => m.id === 'stats')).toEqual([
      {
        id: 'stats',
        type: 'next',
        payload: {
          errors: [
            {
              message: 'serverStats needs a token whose roles claim holds "admin"',
              locations: [{ line: 1, column: 16 }],
              path: ['serverStats'],
              extensions: { code: 'FORBIDDEN' },
            },
          ],
        },
      },
      { id: 'stats', type: 'complete' },
    ]);
    user.subscribe('me', '{ me { id } }');
    expect((await user.waitForNexts('me', 1))[0]).toEqual({ data: { me: { id: 'joe' } } });
  });
});

describe('/metrics', () => {
  it('serves Prometheus text with the connection, subscription, message, delivery, error, close and event-loop figures', async () => {
    const app = await startTestApp();
    const bystander = await startBystander(app);
    await bystander.proveAlive();
    const leaver = await connectAuthed(app.wsUrl, await token('leaver'));
    await leaver.close(1000);
    await gql(app.graphqlUrl, 'mutation { sendMessage(roomId: "nope", body: "x") { id } }', {}, await token('bystander'));

    let text = '';
    await waitFor(
      async () => {
        text = await (await fetch(`${app.url}/metrics`)).text();
        return /^chat_ws_closes_total\{code="1000"\} 1$/m.test(text);
      },
      5_000,
      'the close to be counted',
    );
    const samples = new Map(
      text
        .split('\n')
        .filter((line) => line && !line.startsWith('#'))
        .map((line) => [line.slice(0, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1))]),
    );
    expect(samples.get('chat_ws_connections')).toBe(1);
    expect(samples.get('chat_subscriptions')).toBe(1);
    expect(samples.get('chat_messages_in_total')).toBe(1);
    expect(samples.get('chat_messages_out_total')).toBeGreaterThanOrEqual(1);
    expect(samples.get('chat_ws_deliveries_total')).toBeGreaterThanOrEqual(2);
    // The one failed operation: sendMessage to a room that does not exist.
    expect([...samples].filter(([k]) => k.startsWith('chat_graphql_errors_total{'))).toEqual([
      ['chat_graphql_errors_total{code="NOT_FOUND"}', 1],
    ]);
    expect(samples.has('chat_nodejs_eventloop_lag_seconds')).toBe(true);
    for (const name of [
      'chat_ws_upgrades_refused_total',
      'chat_ws_init_refused_total',
      'chat_ws_slow_consumer_closes_total',
      'chat_ws_frame_rate_closes_total',
    ]) {
      expect(text).toContain(`# TYPE ${name} counter`);
    }
    // Prometheus naming: valid names, counters end in _total.
    for (const line of text.split('\n').filter((l) => l.startsWith('# TYPE '))) {
      const [, , name, type] = line.split(' ');
      expect(name).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
      if (type === 'counter') expect(name).toMatch(/_total$/);
    }
  });
});
