import { describe, expect, it } from 'vitest';
import { ROOM_EVENTS, createRoom, online, send, user } from '../utils/chat.ts';
import { useRedis } from '../utils/redis-server.ts';
import { startTestApp, type TestApp } from '../utils/test-app.ts';
import { signTestToken } from '../utils/tokens.ts';
import { waitFor } from '../utils/wait.ts';
import { connectAuthed, type RawClient } from '../utils/ws-client.ts';

const DASHBOARD = /* GraphQL */ `
  subscription Dashboard {
    dashboard {
      __typename
      ... on DashboardSnapshot {
        at
        totals {
          ...Totals
        }
        instances {
          ...Instance
        }
        rooms {
          ...Room
        }
      }
      ... on DashboardDelta {
        at
        totals {
          ...Totals
        }
        instances {
          ...Instance
        }
        rooms {
          ...Room
        }
        removedInstances
        removedRooms
      }
    }
  }
  fragment Totals on ServerStats {
    at
    instances
    connections
    subscriptions
    messagesPerSecond
    deliveriesPerSecond
  }
  fragment Instance on InstanceStats {
    id
    connections
    subscriptions
    messagesPerSecond
    deliveriesPerSecond
    eventLoopLagMs
    rssBytes
  }
  fragment Room on RoomStats {
    roomId
    name
    online
    messagesPerSecond
  }
`;

interface InstanceStats {
  id: string;
  connections: number;
  subscriptions: number;
  messagesPerSecond: number;
  deliveriesPerSecond: number;
  eventLoopLagMs: number;
  rssBytes: number;
}
interface RoomStats {
  roomId: string;
  name: string;
  online: number;
  messagesPerSecond: number;
}
interface DashboardEvent {
  __typename: 'DashboardSnapshot' | 'DashboardDelta';
  at: string;
  totals: Record<string, unknown>;
  instances: InstanceStats[];
  rooms: RoomStats[];
  removedInstances?: string[];
  removedRooms?: string[];
}
interface DashboardState {
  at: string;
  totals: Record<string, unknown>;
  instances: Map<string, InstanceStats>;
  rooms: Map<string, RoomStats>;
}

const eventsOf = (client: RawClient, id = 'd'): DashboardEvent[] =>
  client.nexts(id).map((payload: { data: { dashboard: DashboardEvent }; errors?: unknown }) => {
    expect(payload.errors).toBeUndefined();
    return payload.data.dashboard;
  });

/** What a client does: start from the snapshot, then replace entries by id and drop the removed ones. */
function apply(events: readonly DashboardEvent[]): DashboardState[] {
  const [snapshot, ...deltas] = events;
  expect(snapshot?.__typename).toBe('DashboardSnapshot');
  let state: DashboardState = {
    at: snapshot!.at,
    totals: snapshot!.totals,
    instances: new Map(snapshot!.instances.map((entry) => [entry.id, entry])),
    rooms: new Map(snapshot!.rooms.map((entry) => [entry.roomId, entry])),
  };
  const states = [state];
  for (const delta of deltas) {
    expect(delta.__typename).toBe('DashboardDelta');
    const instances = new Map(state.instances);
    const rooms = new Map(state.rooms);
    for (const id of delta.removedInstances!) expect(instances.delete(id)).toBe(true);
    for (const id of delta.removedRooms!) expect(rooms.delete(id)).toBe(true);
    // Only what changed: an entry sent again unchanged would break the contract's "only entries whose figures changed".
    for (const entry of delta.instances) {
      expect(instances.get(entry.id)).not.toEqual(entry);
      instances.set(entry.id, entry);
    }
    for (const entry of delta.rooms) {
      expect(rooms.get(entry.roomId)).not.toEqual(entry);
      rooms.set(entry.roomId, entry);
    }
    state = { at: delta.at, totals: delta.totals, instances, rooms };
    states.push(state);
  }
  return states;
}

/** A state as plain data, entries in id order, to compare with `toEqual`. */
const plain = (state: DashboardState) => ({
  at: state.at,
  totals: state.totals,
  instances: [...state.instances.values()].sort((a, b) => a.id.localeCompare(b.id)),
  rooms: [...state.rooms.values()].sort((a, b) => a.roomId.localeCompare(b.roomId)),
});

async function watch(app: TestApp, token: string, id = 'd'): Promise<RawClient> {
  const client = await connectAuthed(app.wsUrl, token);
  client.subscribe(id, DASHBOARD);
  await client.waitForNexts(id, 1, 10_000);
  return client;
}

const latest = (client: RawClient) => apply(eventsOf(client)).at(-1)!;

describe('dashboard subscription (two instances on one Redis)', () => {
  const redis = useRedis();

  async function cluster(env: Record<string, string> = {}) {
    const common = { REDIS_URL: redis().url, REDIS_PREFIX: redis().newPrefix(), MESSAGE_RATE: '100', ...env };
    const [a, b] = [await startTestApp(common), await startTestApp(common)];
    return { a, b, admin: await signTestToken({ sub: 'ops', name: 'Ops', roles: ['admin'] }) };
  }

  it("sends a snapshot, then deltas that, applied to it, give exactly what a new subscriber's snapshot shows", async () => {
    const { a, b, admin } = await cluster();
    const [alice, bob] = await Promise.all([user('alice'), user('bob')]);
    const busy = await createRoom(a.graphqlUrl, alice.token, { name: 'busy' });
    const calm = await createRoom(b.graphqlUrl, bob.token, { name: 'calm' });
    // Presence: alice on A and bob on both instances in `busy` (he counts once), bob alone in `calm` (no messages).
    for (const [app, who, roomId] of [
      [a, alice, busy],
      [b, bob, busy],
      [b, bob, calm],
    ] as const) {
      const member = await connectAuthed(app.wsUrl, who.token);
      member.subscribe('s', ROOM_EVENTS, { roomId });
      await member.waitForNexts('s', 1);
    }
    // Bob's second tab gets no MemberJoined of its own (he is already present): wait for his count instead.
    const secondTab = await connectAuthed(a.wsUrl, bob.token);
    secondTab.subscribe('s', ROOM_EVENTS, { roomId: busy });
    const bobTabs = async () => (await online(a.graphqlUrl, bob.token, busy)).find((p) => p.user.id === 'bob')?.connections ?? 0;
    await waitFor(async () => (await bobTabs()) === 2, 10_000, 'bob present through both instances');

    const first = await watch(a, admin);
    expect(eventsOf(first)[0]!.__typename).toBe('DashboardSnapshot');

    // Traffic through both instances while the dashboards run.
    let sending = true;
    const traffic = (async () => {
      for (let n = 0; sending; n++) {
        await send(n % 2 ? a.graphqlUrl : b.graphqlUrl, alice.token, busy, `load ${n}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    try {
      // Cluster-wide: both instances, both rooms with their names, presence summed over the instances.
      await waitFor(
        () => {
          const state = latest(first);
          return (
            state.instances.size === 2 &&
            (state.rooms.get(busy)?.messagesPerSecond ?? 0) > 0 &&
            state.rooms.get(busy)?.online === 2 &&
            state.rooms.has(calm)
          );
        },
        15_000,
        'both instances and both rooms on the dashboard',
      );
      expect(latest(first).rooms.get(calm)).toEqual({ roomId: calm, name: 'calm', online: 1, messagesPerSecond: 0 });
      expect(latest(first).rooms.get(busy)?.name).toBe('busy');
      expect([...latest(first).instances.values()].every((i) => i.rssBytes > 0 && i.connections >= 1)).toBe(true);

      // A second subscriber on the same instance: its snapshot is a view the first one also reached by deltas.
      const second = await watch(a, admin);
      const snapshot = eventsOf(second)[0]!;
      await waitFor(
        () => eventsOf(first).some((event) => event.at === snapshot.at),
        10_000,
        `the first subscriber to reach ${snapshot.at}`,
      );
      const reached = apply(eventsOf(first)).find((state) => state.at === snapshot.at)!;
      expect(plain(reached)).toEqual(plain(apply([snapshot])[0]!));

      // And from then on, every view both received is the same whichever way each got there.
      await second.waitForNexts('d', 4, 10_000);
      const mine = new Map(apply(eventsOf(first)).map((state) => [state.at, plain(state)]));
      const theirs = apply(eventsOf(second));
      expect(theirs.length).toBeGreaterThanOrEqual(4);
      for (const state of theirs) if (mine.has(state.at)) expect(plain(state)).toEqual(mine.get(state.at));
      expect(theirs.filter((state) => mine.has(state.at)).length).toBeGreaterThanOrEqual(3);
    } finally {
      sending = false;
      await traffic;
    }

    // Instance B stops: it is removed, and the totals follow.
    const countBefore = eventsOf(first).length;
    await b.stop();
    await waitFor(
      () =>
        eventsOf(first)
          .slice(countBefore)
          .some((event) => event.removedInstances?.length === 1),
      10_000,
      'B removed',
    );
    expect(latest(first).instances.size).toBe(1);
    expect(latest(first).totals.instances).toBe(1);
  });

  it('drops a room that went quiet and does not bring it back while it stays quiet', async () => {
    const { a, b, admin } = await cluster({ DASHBOARD_ROOM_IDLE_MS: '2000' });
    const alice = await user('alice');
    const quiet = await createRoom(a.graphqlUrl, alice.token, { name: 'quiet' });
    const lively = await createRoom(a.graphqlUrl, alice.token, { name: 'lively' });
    const member = await connectAuthed(b.wsUrl, alice.token);
    member.subscribe('s', ROOM_EVENTS, { roomId: lively });
    await member.waitForNexts('s', 1);
    const client = await watch(a, admin);

    for (let n = 0; n < 3; n++) await send(b.graphqlUrl, alice.token, quiet, `burst ${n}`);
    await waitFor(() => latest(client).rooms.has(quiet), 10_000, 'the quiet room listed while busy');
    const shown = eventsOf(client).length;
    await waitFor(
      () =>
        eventsOf(client)
          .slice(shown)
          .some((event) => event.removedRooms?.includes(quiet)),
      10_000,
      'the quiet room removed',
    );
    const removedAt = eventsOf(client).length;
    // Five more seconds of deltas: the room never comes back; the room with someone present stays.
    await client.waitForNexts('d', removedAt + 5, 15_000);
    for (const event of eventsOf(client).slice(removedAt)) expect(event.rooms.map((room) => room.roomId)).not.toContain(quiet);
    expect(latest(client).rooms.has(quiet)).toBe(false);
    expect(latest(client).rooms.get(lively)).toMatchObject({ online: 1, messagesPerSecond: 0 });
  });

  it('shows an instance of an older version (no lag, RSS or rooms in its record) and ignores malformed room entries', async () => {
    const prefix = redis().newPrefix();
    const a = await startTestApp({ REDIS_URL: redis().url, REDIS_PREFIX: prefix });
    const admin = await signTestToken({ sub: 'ops', roles: ['admin'] });
    // What an instance from before the dashboard writes, plus room entries nobody should trust (anyone with Redis access can write).
    const record = {
      connections: 3,
      subscriptions: 2,
      messagesPerSecond: 1,
      deliveriesPerSecond: 2,
      rooms: [{ roomId: 7 }, 'x', { roomId: 'r-ok', online: 1, recentMessages: 20 }],
    };
    await redis().command('SET', `${prefix}instance:older`, JSON.stringify(record), 'PX', 60_000);
    await redis().command('SADD', `${prefix}instances`, 'older');
    const client = await watch(a, admin);
    await waitFor(() => latest(client).instances.has('older'), 10_000, 'the older instance listed');
    expect(latest(client).instances.get('older')).toEqual({
      id: 'older',
      connections: 3,
      subscriptions: 2,
      messagesPerSecond: 1,
      deliveriesPerSecond: 2,
      eventLoopLagMs: 0,
      rssBytes: 0,
    });
    // The well-formed entry counts (a room id with no stored room shows its id as its name); the others are dropped.
    expect([...latest(client).rooms.values()]).toEqual([{ roomId: 'r-ok', name: 'r-ok', online: 1, messagesPerSecond: 2 }]);
  });

  it('refuses tokens without the admin role with FORBIDDEN, on either instance', async () => {
    const { a, b } = await cluster();
    const alice = await user('alice');
    for (const app of [a, b]) {
      const client = await connectAuthed(app.wsUrl, alice.token);
      client.subscribe('d', DASHBOARD);
      const end = await client.waitFor((m) => m.id === 'd' && (m.type === 'error' || m.type === 'complete'), 10_000);
      const errors = end.type === 'error' ? end.payload : client.nexts('d')[0]?.errors;
      expect(errors?.map((e: { extensions?: { code?: string } }) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    }
  });
});
