import { describe, expect, it } from 'vitest';
import { createRoom, eventsOf, online, user } from '../utils/chat.ts';
import { type Instance, startInstance } from '../utils/instance.ts';
import { waitFor, within } from '../utils/wait.ts';
import { type RawClient } from '../utils/ws-client.ts';
import { checkLedger, expectNoUnhandled, presenceOf, printOutputOnFailure, startSenders, subscriber, useCluster } from './helpers.ts';

// Two survivors for the file; each test starts the instance it kills, freezes or stops (same Redis, same prefix).
const cluster = useCluster(2);

async function setup(victimEnv: Record<string, string> = {}) {
  const { nodes, env } = cluster();
  const [b, c] = [nodes[0]!, nodes[1]!];
  const victim = await startInstance({ env: { ...env, ...victimEnv } });
  printOutputOnFailure([victim, b, c]);
  const [alice, carol, bob, erin, sender] = await Promise.all(['alice', 'carol', 'bob', 'erin', 'sender'].map(user));
  const roomId = await createRoom(b.graphqlUrl, alice!.token);
  const observers = [
    { client: await subscriber(b.wsUrl, alice!.token, roomId), id: 's', name: 'alice on survivor B' },
    { client: await subscriber(c.wsUrl, carol!.token, roomId), id: 's', name: 'carol on survivor C' },
  ];
  const onVictim = [await subscriber(victim.wsUrl, bob!.token, roomId), await subscriber(victim.wsUrl, erin!.token, roomId)];
  const sawPresence = (client: RawClient, userId: string, expected: string[]) =>
    waitFor(
      () => presenceOf(eventsOf(client, 's'), userId).length >= expected.length,
      10_000,
      `${expected.join(', ')} (got ${presenceOf(eventsOf(client, 's'), userId).join(', ')})`,
    ).then(() => expect(presenceOf(eventsOf(client, 's'), userId)).toEqual(expected));
  for (const { client } of observers) {
    for (const id of ['bob', 'erin']) await sawPresence(client, id, [`MemberJoined:${id}`]);
  }
  const onlineIds = async (node: Instance) => (await online(node.graphqlUrl, alice!.token, roomId)).map((p) => p.user.id).sort();
  return { b, c, victim, roomId, alice: alice!, sender: sender!, observers, onVictim, sawPresence, onlineIds, survivors: [b, c] };
}

describe('instance faults', () => {
  it('reports a SIGKILLed instance’s members as MemberLeft once for the cluster, leaves no ghost, and delivery goes on', async () => {
    const { b, c, victim, roomId, alice, sender, observers, sawPresence, onlineIds, survivors } = await setup();
    const senders = startSenders(
      [
        { graphqlUrl: b.graphqlUrl, token: sender.token },
        { graphqlUrl: c.graphqlUrl, token: alice.token },
      ],
      roomId,
      'sigkill',
    );
    await senders.moreAcked(10);
    victim.kill('SIGKILL');
    expect(await within(victim.exited, 5_000, 'victim exit')).toBe('SIGKILL');

    // PRESENCE_TTL_MS=1500: both survivors' reapers race for the expired entries; one claims each.
    for (const { client } of observers) {
      for (const id of ['bob', 'erin']) await sawPresence(client, id, [`MemberJoined:${id}`, `MemberLeft:${id}`]);
    }
    for (const node of survivors) expect(await onlineIds(node)).toEqual(['alice', 'carol']);
    await senders.moreAcked(10);
    await senders.stop();
    await checkLedger({
      ledger: senders.ledger,
      subscribers: observers,
      graphqlUrl: b.graphqlUrl,
      token: alice.token,
      roomId,
      fault: 'instance SIGKILLed',
    });
    // Checked again after the ledger's last message: a second MemberLeft would have arrived by now.
    for (const { client } of observers) {
      for (const id of ['bob', 'erin']) expect(presenceOf(eventsOf(client, 's'), id)).toEqual([`MemberJoined:${id}`, `MemberLeft:${id}`]);
    }
    expectNoUnhandled(survivors);
  });

  it('reports a frozen instance’s members left, and after the thaw re-registers them with one MemberJoined: no ghost, no duplicate', async () => {
    // A long heartbeat on the frozen instance: its sockets are judged by Redis presence alone, not by a pong
    // that the thawed process has not read yet when its overdue sweep runs.
    const { b, c, victim, roomId, alice, sender, observers, onVictim, sawPresence, onlineIds, survivors } = await setup({
      HEARTBEAT_INTERVAL_MS: '30000',
    });
    const senders = startSenders(
      [
        { graphqlUrl: b.graphqlUrl, token: sender.token },
        { graphqlUrl: c.graphqlUrl, token: alice.token },
      ],
      roomId,
      'sigstop',
    );
    await senders.moreAcked(10);
    victim.freeze();
    try {
      for (const { client } of observers) {
        for (const id of ['bob', 'erin']) await sawPresence(client, id, [`MemberJoined:${id}`, `MemberLeft:${id}`]);
      }
      for (const node of survivors) expect(await onlineIds(node)).toEqual(['alice', 'carol']);
      await senders.moreAcked(10); // sent while it is frozen: Redis holds them in its pub/sub buffer
    } finally {
      victim.thaw();
    }

    // README (Presence, "Frozen instance"): the thawed instance's refresh finds its entries reaped, registers
    // them again and publishes MemberJoined; the sockets stayed open, so they are present again.
    for (const { client } of observers) {
      for (const id of ['bob', 'erin']) await sawPresence(client, id, [`MemberJoined:${id}`, `MemberLeft:${id}`, `MemberJoined:${id}`]);
    }
    for (const node of [...survivors, victim]) {
      expect((await online(node.graphqlUrl, alice.token, roomId)).map((p) => [p.user.id, p.connections]).sort()).toEqual([
        ['alice', 1],
        ['bob', 1],
        ['carol', 1],
        ['erin', 1],
      ]);
    }
    await senders.moreAcked(10);
    await senders.stop();
    const subscribers = [
      ...observers,
      ...onVictim.map((client, index) => ({ client, id: 's', name: `${['bob', 'erin'][index]} on the thawed instance` })),
    ];
    await checkLedger({
      ledger: senders.ledger,
      subscribers,
      graphqlUrl: b.graphqlUrl,
      token: alice.token,
      roomId,
      fault: 'instance frozen (SIGSTOP) then thawed',
    });
    for (const { client } of observers) {
      for (const id of ['bob', 'erin'])
        expect(presenceOf(eventsOf(client, 's'), id)).toEqual([`MemberJoined:${id}`, `MemberLeft:${id}`, `MemberJoined:${id}`]);
    }
    expectNoUnhandled([victim, ...survivors]);
  });

  it('on SIGTERM closes its sockets with 1001, exits 0, and the other instances see its users leave', async () => {
    // A long presence TTL: the MemberLeft must come from the graceful shutdown, not from the survivors' reaper.
    const { victim, observers, onVictim, sawPresence, onlineIds, survivors } = await setup({ PRESENCE_TTL_MS: '60000' });
    const closes = onVictim.map((client) => client.closed);
    victim.kill('SIGTERM');
    expect((await within(Promise.all(closes), 10_000, 'sockets closed')).map((close) => close.code)).toEqual([1001, 1001]);
    expect(await within(victim.exited, 10_000, 'victim exit')).toBe(0);
    for (const { client } of observers) {
      for (const id of ['bob', 'erin']) await sawPresence(client, id, [`MemberJoined:${id}`, `MemberLeft:${id}`]);
    }
    for (const node of survivors) expect(await onlineIds(node)).toEqual(['alice', 'carol']);
    expectNoUnhandled([victim, ...survivors]);
  });
});
