import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/chat/logger.ts';
import { createPresenceService } from '../../src/chat/presence.ts';
import type { User } from '../../src/chat/types.ts';
import { waitFor, within } from '../utils/wait.ts';
import { privateRedisServer, redisCluster, useBackends } from './backends.ts';
import { alice, bob, createRecorder, uniqueRoomId } from './recorder.ts';

const backends = useBackends();
const at = (n: number) => new Date(1_700_000_000_000 + n * 1_000).toISOString();

describe.each(backends)('PresenceStore contract: $name', (backend) => {
  it('reports first on the first connection and last on the last, counting per user', async () => {
    const [a, b] = await backend.cluster(2);
    const room = uniqueRoomId();
    expect(await a!.presence.join(room, alice, 'c1', at(1))).toEqual({ first: true });
    expect(await b!.presence.join(room, alice, 'c2', at(2))).toEqual({ first: false });
    expect(await b!.presence.join(room, bob, 'c3', at(3))).toEqual({ first: true });
    expect(await a!.presence.list(room)).toEqual([
      { user: alice, connections: 2, since: at(1) },
      { user: bob, connections: 1, since: at(3) },
    ]);
    expect(await a!.presence.leave(room, alice, 'c1', at(9))).toEqual({ last: false });
    expect(await a!.presence.leave(room, alice, 'c1', at(9))).toEqual({ last: false });
    expect(await b!.presence.leave(room, alice, 'c2', at(9))).toEqual({ last: true });
    expect(await a!.presence.leave(room, alice, 'never-joined', at(9))).toEqual({ last: false });
    expect(await b!.presence.list(room)).toEqual([{ user: bob, connections: 1, since: at(3) }]);
    expect(await b!.presence.list(uniqueRoomId())).toEqual([]);
  });

  it('gives exactly one first and one last to concurrent joins and leaves from several nodes', async () => {
    const nodes = await backend.cluster(3);
    const room = uniqueRoomId();
    const ids = Array.from({ length: 12 }, (_, n) => `c${n}`);
    const joins = await Promise.all(ids.map((id, n) => nodes[n % 3]!.presence.join(room, alice, id, at(n))));
    expect(joins.filter((j) => j.first)).toHaveLength(1);
    const leaves = await Promise.all(ids.map((id, n) => nodes[(n + 1) % 3]!.presence.leave(room, alice, id, at(20 + n))));
    expect(leaves.filter((l) => l.last)).toHaveLength(1);
    expect(await nodes[0]!.presence.list(room)).toEqual([]);
  });

  it('announces each transition on the room bus, in transition order, with the join or leave that made it', async () => {
    const nodes = await backend.cluster(3);
    const room = uniqueRoomId();
    const events = createRecorder();
    await nodes[2]!.bus.subscribe(room, events);
    const presenceEvents = () => events.events.filter((e) => e.kind === 'joined' || e.kind === 'left');

    await nodes[0]!.presence.join(room, alice, 'c1', at(1));
    await nodes[1]!.presence.join(room, alice, 'c2', at(2));
    await nodes[1]!.presence.leave(room, alice, 'c1', at(3));
    await nodes[0]!.presence.leave(room, alice, 'c2', at(4));
    await waitFor(() => presenceEvents().length >= 2, 5_000, 'MemberJoined and MemberLeft');
    expect(presenceEvents()).toEqual([
      { kind: 'joined', roomId: room, user: alice, at: at(1) },
      { kind: 'left', roomId: room, user: alice, at: at(4) },
    ]);

    // One user joining and leaving concurrently through every node: whatever order the store ran them in, what
    // subscribers see alternates Joined/Left, one event per reported transition, and ends in the stored state.
    const ops: Array<Promise<{ first?: boolean; last?: boolean }>> = [];
    for (let n = 0; n < 30; n++) {
      const id = `x${n}`;
      ops.push(nodes[n % 3]!.presence.join(room, alice, id, at(10 + n)));
      ops.push(nodes[(n + 1) % 3]!.presence.leave(room, alice, id, at(10 + n)));
    }
    const results = await Promise.all(ops);
    const firsts = results.filter((r) => r.first).length;
    const lasts = results.filter((r) => r.last).length;
    await waitFor(() => presenceEvents().length >= 2 + firsts + lasts, 5_000, 'one event per transition');
    await nodes[2]!.presence.join(room, bob, 'marker', at(99)); // whatever was published before it has arrived
    await waitFor(() => events.events.some((e) => e.kind === 'joined' && e.user.id === 'bob'), 5_000, 'marker');
    const kinds = presenceEvents()
      .filter((e) => e.user.id === 'alice')
      .map((e) => e.kind);
    expect(kinds).toHaveLength(2 + firsts + lasts);
    kinds.forEach((kind, n) => expect(kind, `event ${n} of ${kinds.join(',')}`).toBe(n % 2 === 0 ? 'joined' : 'left'));
    const stillPresent = (await nodes[0]!.presence.list(room)).some((p) => p.user.id === 'alice');
    expect(kinds.at(-1)).toBe(stillPresent ? 'joined' : 'left');
  });
});

describe('PresenceStore over Redis: instances that die or freeze', () => {
  const collect = () => {
    const expired: Array<[string, User]> = [];
    return { expired, handler: (roomId: string, user: User) => void expired.push([roomId, user]) };
  };

  it('reaps the connections of a dead instance and reports each user once, from one survivor (pitfalls §8)', async () => {
    const server = await privateRedisServer();
    const prefix = server.newPrefix();
    const [dead] = await redisCluster(server, 1, { prefix, presenceTtlMs: 300 });
    const survivors = await redisCluster(server, 2, { prefix, presenceTtlMs: 300, presenceReapIntervalMs: 20 });
    const reports = survivors.map(() => collect());
    survivors.forEach((node, n) => node.presence.onExpired(reports[n]!.handler));
    const [room, busy] = [uniqueRoomId(), uniqueRoomId()];
    const events = createRecorder();
    await survivors[1]!.bus.subscribe(room, events);
    await dead!.presence.join(room, alice, 'a1', at(1));
    await dead!.presence.join(room, alice, 'a2', at(2));
    await dead!.presence.join(busy, bob, 'b1', at(3));
    await survivors[0]!.presence.join(busy, bob, 'b2', at(4)); // bob stays in `busy` through the survivor
    await dead!.close(); // stops refreshing without leaving: what a crash looks like from Redis

    const all = () => reports.flatMap((r) => r.expired);
    await waitFor(() => all().length >= 1, 5_000, 'expiry report');
    await waitFor(async () => (await server.command('ZCARD', `${prefix}presence-expiry`)) === 1, 5_000, 'dead entries reaped');
    await Promise.all(survivors.map((node) => node.presence.reap())); // one more pass each: nothing left to claim
    expect(all()).toEqual([[room, alice]]);
    // The reaper announced it from its script: the stored name, one MemberLeft after the MemberJoined.
    await waitFor(() => events.events.length >= 2, 5_000, 'MemberLeft from the reaper');
    expect(events.events.map((e) => [e.kind, e.kind === 'message' ? null : e.user])).toEqual([
      ['joined', alice],
      ['left', alice],
    ]);
    expect(await survivors[1]!.presence.list(room)).toEqual([]);
    expect(await survivors[1]!.presence.list(busy)).toEqual([{ user: bob, connections: 1, since: at(3) }]);
  });

  it('a frozen instance that finds its entries reaped registers them again and announces MemberJoined', async () => {
    const server = await privateRedisServer();
    const prefix = server.newPrefix();
    // A refresh interval far beyond the TTL is what a SIGSTOPped instance looks like to the others.
    const [frozen] = await redisCluster(server, 1, {
      prefix,
      presenceTtlMs: 200,
      presenceRefreshIntervalMs: 60_000,
      presenceReapIntervalMs: 60_000,
    });
    const [survivor] = await redisCluster(server, 1, { prefix, presenceTtlMs: 200, presenceReapIntervalMs: 20 });
    // The store announces the re-registration itself (from the join script) and reports it (`onRejoined`).
    createPresenceService({ store: frozen!.presence, logger: silentLogger });
    const report = collect();
    survivor!.presence.onExpired(report.handler);
    const room = uniqueRoomId();
    const events = createRecorder();
    await survivor!.bus.subscribe(room, events);
    await frozen!.presence.join(room, alice, 'a1', at(1));
    await waitFor(() => report.expired.length === 1, 5_000, 'reaped');

    await frozen!.presence.refresh(); // the instance thaws
    // Joined at the join, Left from the survivor's reaper, Joined again from the thawed instance's refresh.
    await waitFor(() => events.events.length >= 3, 5_000, 'MemberJoined, MemberLeft, MemberJoined');
    expect(events.events.map((e) => [e.kind, e.kind === 'message' ? null : e.user])).toEqual([
      ['joined', alice],
      ['left', alice],
      ['joined', alice],
    ]);
    expect((await survivor!.presence.list(room)).map((p) => [p.user, p.connections])).toEqual([[alice, 1]]);
    await frozen!.presence.refresh(); // a second refresh finds everything in place: no second MemberJoined
    expect(await frozen!.presence.leave(room, alice, 'a1', at(9))).toEqual({ last: true });
    expect(report.expired).toEqual([[room, alice]]);
  });

  it('releases a join whose reply timed out: a frozen Redis that runs it on resume runs the release after it', async () => {
    const server = await privateRedisServer();
    const prefix = server.newPrefix();
    // A long TTL: the release, not the reaper, is what must clean up.
    const [node, observer] = await redisCluster(server, 2, { prefix, presenceTtlMs: 60_000, commandTimeoutMs: 300 });
    const room = uniqueRoomId();
    const events = createRecorder();
    await observer!.bus.subscribe(room, events);
    // Scripts cached (EVALSHA would answer NOSCRIPT after the resume, and nothing would run at all).
    const warmUp = uniqueRoomId();
    await node!.presence.join(warmUp, alice, 'warm-up', at(0));
    await node!.presence.leave(warmUp, alice, 'warm-up', at(0));
    server.pause();
    await expect(within(node!.presence.join(room, alice, 'c1', at(1)), 3_000)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    server.resume();
    await waitFor(() => events.events.length >= 2, 5_000, 'MemberJoined then MemberLeft');
    expect(events.events.map((e) => e.kind)).toEqual(['joined', 'left']);
    expect(await observer!.presence.list(room)).toEqual([]);
    expect(await server.command('ZCARD', `${prefix}presence-expiry`)).toBe(0);
  });

  it('answers UNAVAILABLE while Redis is down', async () => {
    const server = await privateRedisServer();
    const [node] = await redisCluster(server, 1, { commandTimeoutMs: 500 });
    await server.stop();
    await expect(within(node!.presence.join('r', alice, 'c', at(1)), 3_000)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(within(node!.presence.list('r'), 3_000)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
