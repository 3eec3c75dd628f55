import { describe, expect, it } from 'vitest';
import { ROOM_EVENTS, createRoom, eventsOf, messageIds, metric, online, send, user } from '../utils/chat.ts';
import { startInstance } from '../utils/instance.ts';
import { startNginx } from '../utils/nginx.ts';
import { subscribeSse } from '../utils/sse-client.ts';
import { signTestToken } from '../utils/tokens.ts';
import { waitFor, within } from '../utils/wait.ts';
import { connectAuthed, connectRaw, type RawClient } from '../utils/ws-client.ts';
import { printOutputOnFailure, useCluster } from './helpers.ts';

const cluster = useCluster(2);

describe('two instances behind nginx (deploy/nginx.conf)', () => {
  it('proxies WebSocket, HTTP and SSE: cross-instance delivery, presence and an `after` resume', async () => {
    const { nodes } = cluster();
    printOutputOnFailure(nodes);
    const nginx = await startNginx(nodes.map((node) => node.port));
    const [alice, bob, carol] = await Promise.all([user('alice'), user('bob'), user('carol')]);
    const roomId = await createRoom(nginx.graphqlUrl, alice.token);

    // Round robin spreads the upgrades; connect until both instances hold a socket (bounded).
    const clients: RawClient[] = [];
    const tokens = [alice, bob, carol];
    const perNode = () => Promise.all(nodes.map((node) => metric(node.url, 'chat_ws_connections')));
    while (clients.length < 3 && (clients.length < 2 || (await perNode()).includes(0))) {
      const who = tokens[clients.length]!;
      const client = await connectAuthed(nginx.wsUrl, who.token);
      client.subscribe('s', ROOM_EVENTS, { roomId });
      await client.waitForNexts('s', 1, 10_000);
      clients.push(client);
    }
    expect(await perNode(), 'sockets on both instances').not.toContain(0);

    const sse = await subscribeSse(nginx.graphqlUrl, ROOM_EVENTS, { roomId }, { token: carol.token });
    expect(sse.status).toBe(200);
    await waitFor(async () => (await online(nginx.graphqlUrl, alice.token, roomId)).length === 3, 10_000, 'three users online');

    const sent = await send(nginx.graphqlUrl, alice.token, roomId, 'through nginx');
    for (const client of clients)
      await waitFor(() => messageIds(eventsOf(client, 's')).includes(sent.id), 10_000, 'WS delivery through nginx');
    await waitFor(() => sse.nexts().some((n) => n.data?.roomEvents?.message?.id === sent.id), 10_000, 'SSE delivery through nginx');

    // Resume: the first client drops, misses two messages, reconnects through nginx (any instance) with `after`.
    const [first] = clients as [RawClient];
    await first.close();
    const missed = [
      await send(nginx.graphqlUrl, bob.token, roomId, 'missed 1'),
      await send(nginx.graphqlUrl, bob.token, roomId, 'missed 2'),
    ];
    const resumed = await connectAuthed(nginx.wsUrl, alice.token);
    resumed.subscribe('r', ROOM_EVENTS, { roomId, after: sent.id });
    await waitFor(() => messageIds(eventsOf(resumed, 'r')).length >= 2, 10_000, 'replayed messages');
    const live = await send(nginx.graphqlUrl, bob.token, roomId, 'live again');
    await waitFor(() => messageIds(eventsOf(resumed, 'r')).includes(live.id), 10_000, 'live after resume');
    expect(messageIds(eventsOf(resumed, 'r'))).toEqual([...missed.map((m) => m.id), live.id]);
    await sse.close();
  });

  // Behind nginx every client's TCP peer is nginx: with TRUST_PROXY=1 the server takes the address nginx appended
  // to X-Forwarded-For, so one client's failed inits lock out that client only.
  it('with TRUST_PROXY=1, 20 failed inits from one client lock out that client, not another one', async () => {
    const instance = await startInstance({ env: { TRUST_PROXY: '1', INIT_FAILURES_PER_ADDRESS: '20', LOG_LEVEL: 'warn' } });
    const nginx = await startNginx([instance.port]);
    const stale = await signTestToken({ sub: 'stale' }, { expiresIn: '-1s' });
    const fromA = { client: { localAddress: '127.0.0.2' } };
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const client = await connectRaw(nginx.wsUrl, fromA);
      client.init(stale).catch(() => {});
      expect((await within(client.closed, 5_000, '4403')).code).toBe(4403);
    }
    await expect(connectRaw(nginx.wsUrl, fromA)).rejects.toThrow('HTTP 429');

    const bob = await user('bob');
    const other = await connectRaw(nginx.wsUrl, { client: { localAddress: '127.0.0.3' } });
    await other.init(bob.token);
    expect(other.isAcked()).toBe(true);
  });
});
