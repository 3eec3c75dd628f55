import { describe, expect, it } from 'vitest';
import { formatMessageId } from '../../src/chat/message-id.ts';
import type { AppendMessageInput, AppendResult, ChatAdapters } from '../../src/chat/ports/index.ts';
import type { Message, User } from '../../src/chat/types.ts';
import { waitFor, within } from '../utils/wait.ts';
import { privateRedisServer, redisCluster, useBackends } from './backends.ts';
import { alice, bob, createRecorder, uniqueRoomId } from './recorder.ts';
import { startReplyDroppingProxy } from '../utils/reply-dropping-proxy.ts';

const backends = useBackends();

const input = (roomId: string, body: string, extra: Partial<AppendMessageInput> = {}): AppendMessageInput => ({
  roomId,
  author: alice,
  body,
  sentAt: '2026-01-01T00:00:00.000Z',
  clientMessageId: null,
  ...extra,
});

/** A stored room, public unless members are given (private, created by `createdBy`). */
async function openRoom(node: ChatAdapters, access: { createdBy?: User; members?: string[] } = {}): Promise<string> {
  const id = uniqueRoomId();
  const { createdBy = alice, members } = access;
  await node.rooms.create({
    id,
    name: id,
    private: members !== undefined,
    createdAt: '2026-01-01T00:00:00.000Z',
    createdBy: createdBy.id,
    members: members ?? [],
  });
  return id;
}

/** The message of a `created` or `duplicate` result; fails the test on anything else. */
function stored(result: AppendResult): Message {
  if (result.status !== 'created' && result.status !== 'duplicate') throw new Error(`expected a message, got ${result.status}`);
  return result.message;
}

describe.each(backends)('MessageStore contract: $name', (backend) => {
  it('numbers messages 1, 2, 3 per room with ids from formatMessageId, and reads them back oldest first', async () => {
    const [node] = await backend.cluster(1);
    const [room, other] = [await openRoom(node!), await openRoom(node!)];
    expect(await node!.messages.lastSeq(room)).toBe(0);
    expect(await node!.messages.latest(room, 10)).toEqual([]);
    const body = 'quotes " \\ ünïcödé 🎉 \n newline </script> \ud800';
    const results = [];
    for (const text of ['one', 'two', body]) results.push(await node!.messages.append(input(room, text)));
    await node!.messages.append(input(other, 'elsewhere'));
    expect(results.map((r) => [r.status, stored(r).seq, stored(r).id])).toEqual([
      ['created', 1, formatMessageId(room, 1)],
      ['created', 2, formatMessageId(room, 2)],
      ['created', 3, formatMessageId(room, 3)],
    ]);
    expect(stored(results[2]!)).toEqual({
      id: formatMessageId(room, 3),
      roomId: room,
      seq: 3,
      author: alice,
      body,
      sentAt: '2026-01-01T00:00:00.000Z',
      clientMessageId: null,
    });
    expect(await node!.messages.latest(room, 10)).toEqual(results.map(stored));
    expect(await node!.messages.lastSeq(room)).toBe(3);
    expect((await node!.messages.latest(other, 10)).map((m) => m.seq)).toEqual([1]);
  });

  it('pages with latest(limit, beforeSeq) and after(afterSeq, limit)', async () => {
    const [node] = await backend.cluster(1);
    const room = await openRoom(node!);
    for (let n = 1; n <= 10; n++) await node!.messages.append(input(room, `m${n}`));
    const seqs = (messages: { seq: number }[]) => messages.map((m) => m.seq);
    expect(seqs(await node!.messages.latest(room, 3))).toEqual([8, 9, 10]);
    expect(seqs(await node!.messages.latest(room, 3, 8))).toEqual([5, 6, 7]);
    expect(seqs(await node!.messages.latest(room, 50, 3))).toEqual([1, 2]);
    expect(seqs(await node!.messages.latest(room, 0))).toEqual([]);
    expect(seqs(await node!.messages.after(room, 0, 3))).toEqual([1, 2, 3]);
    expect(seqs(await node!.messages.after(room, 7, 50))).toEqual([8, 9, 10]);
    expect(seqs(await node!.messages.after(room, 10, 50))).toEqual([]);
  });

  it('is idempotent per author + room + clientMessageId: a retry returns the stored message and publishes nothing', async () => {
    const [a, b] = await backend.cluster(2);
    const [room, other] = [await openRoom(a!), await openRoom(a!)];
    const recorder = createRecorder();
    await b!.bus.subscribe(room, recorder);
    const first = await a!.messages.append(input(room, 'hello', { clientMessageId: 'c1' }));
    const retry = await b!.messages.append(input(room, 'hello again', { clientMessageId: 'c1' }));
    expect(first.status).toBe('created');
    expect(retry).toEqual({ status: 'duplicate', message: stored(first) });
    const byBob = await a!.messages.append(input(room, 'bob', { author: bob, clientMessageId: 'c1' }));
    const elsewhere = await a!.messages.append(input(other, 'other room', { clientMessageId: 'c1' }));
    expect([byBob.status, stored(byBob).seq, elsewhere.status, stored(elsewhere).seq]).toEqual(['created', 2, 'created', 1]);
    await waitFor(() => recorder.events.length >= 2, 5_000, 'two message events');
    expect(recorder.seqs()).toEqual([1, 2]);
    expect((await a!.messages.latest(room, 10)).map((m) => m.body)).toEqual(['hello', 'bob']);
  });

  it('answers no-room and forbidden (private room, author neither creator nor member), storing and spending nothing', async () => {
    const [node] = await backend.cluster(1, { messageRate: 0.01, messageBurst: 1 });
    const secret = await openRoom(node!, { createdBy: bob, members: ['bob', 'carol'] });
    expect(await node!.messages.append(input(uniqueRoomId(), 'nowhere'))).toEqual({ status: 'no-room' });
    expect(await node!.messages.append(input(secret, 'let me in', { clientMessageId: 'c1' }))).toEqual({ status: 'forbidden' });
    expect(await node!.messages.lastSeq(secret)).toBe(0);
    // Alice's one token is still there.
    expect((await node!.messages.append(input(await openRoom(node!), 'public'))).status).toBe('created');
    // The creator and a listed member may post.
    expect((await node!.messages.append(input(secret, 'mine', { author: bob }))).status).toBe('created');
    expect((await node!.messages.append(input(secret, 'member', { author: { id: 'carol', name: 'Carol' } }))).status).toBe('created');
  });

  it('matches private-room members exactly, whatever characters their ids hold', async () => {
    const [node] = await backend.cluster(1);
    // As JSON, `"a,",",x"` holds `","` followed by `,`: a substring test would let user `,` in.
    const members = ['bob', 'a,', ',x', 'é🎉 "q" \\', '\ud800', '[]'];
    const room = await openRoom(node!, { createdBy: bob, members });
    const as = (id: string) => node!.messages.append(input(room, `from ${id}`, { author: { id, name: id } }));
    for (const id of [',', 'a', 'x', '"', 'é🎉', 'q', '[', '\\', 'bo']) expect((await as(id)).status, id).toBe('forbidden');
    for (const id of ['a,', ',x', 'é🎉 "q" \\', '[]']) expect((await as(id)).status, id).toBe('created');
  });

  it('spends one MESSAGE_RATE token per stored message, from the bucket messageRate.take uses: rate-limited stores nothing', async () => {
    const [a, b] = await backend.cluster(2, { messageRate: 0.01, messageBurst: 3 });
    const room = await openRoom(a!);
    const recorder = createRecorder();
    await b!.bus.subscribe(room, recorder);
    expect(await b!.messageRate.take(alice.id)).toBe(true);
    const results = [];
    for (const node of [a, b, a]) results.push((await node!.messages.append(input(room, 'm'))).status);
    expect(results).toEqual(['created', 'created', 'rate-limited']);
    expect(await a!.messageRate.take(alice.id)).toBe(false);
    expect((await a!.messages.append(input(room, 'bob', { author: bob }))).status).toBe('created');
    expect(await a!.messages.lastSeq(room)).toBe(3);
    await waitFor(() => recorder.events.length >= 3, 5_000, 'three message events');
    expect(recorder.seqs()).toEqual([1, 2, 3]);
  });

  it('answers a retry of a stored message at the rate limit with that message, and spends no token on it', async () => {
    const [node] = await backend.cluster(1, { messageRate: 0.01, messageBurst: 2 });
    const room = await openRoom(node!);
    const first = await node!.messages.append(input(room, 'hello', { clientMessageId: 'c1' }));
    for (let n = 0; n < 3; n++) {
      expect(await node!.messages.append(input(room, 'hello', { clientMessageId: 'c1' }))).toEqual({
        status: 'duplicate',
        message: stored(first),
      });
    }
    expect((await node!.messages.append(input(room, 'second', { clientMessageId: 'c2' }))).status).toBe('created');
    // Bucket empty: a retry still gets its message, a new message does not get stored.
    expect(await node!.messages.append(input(room, 'hello', { clientMessageId: 'c1' }))).toEqual({
      status: 'duplicate',
      message: stored(first),
    });
    expect(await node!.messages.append(input(room, 'third', { clientMessageId: 'c3' }))).toEqual({ status: 'rate-limited' });
    expect((await node!.messages.latest(room, 10)).map((m) => m.clientMessageId)).toEqual(['c1', 'c2']);
  });

  it('trims history to historyLimit (and forgets the trimmed clientMessageIds) while seqs go on', async () => {
    const [node] = await backend.cluster(1, { historyLimit: 3 });
    const room = await openRoom(node!);
    await node!.messages.append(input(room, 'm1', { clientMessageId: 'old' }));
    for (let n = 2; n <= 5; n++) await node!.messages.append(input(room, `m${n}`));
    expect((await node!.messages.latest(room, 10)).map((m) => m.seq)).toEqual([3, 4, 5]);
    expect((await node!.messages.after(room, 0, 10)).map((m) => m.seq)).toEqual([3, 4, 5]);
    expect(await node!.messages.lastSeq(room)).toBe(5);
    const reused = await node!.messages.append(input(room, 'again', { clientMessageId: 'old' }));
    expect([reused.status, stored(reused).seq]).toEqual(['created', 6]);
  });

  it('keeps exactly the newest historyLimit messages, and their retry keys, however many were trimmed', async () => {
    const [node] = await backend.cluster(1, { historyLimit: 5 });
    const room = await openRoom(node!);
    for (let n = 1; n <= 200; n++) await node!.messages.append(input(room, `m${n}`, { clientMessageId: `c${n}` }));
    const seqs = (messages: { seq: number }[]) => messages.map((m) => m.seq);
    expect(seqs(await node!.messages.latest(room, 10))).toEqual([196, 197, 198, 199, 200]);
    expect(seqs(await node!.messages.latest(room, 2, 198))).toEqual([196, 197]);
    expect(seqs(await node!.messages.after(room, 0, 10))).toEqual([196, 197, 198, 199, 200]);
    expect(seqs(await node!.messages.after(room, 198, 10))).toEqual([199, 200]);
    expect(await node!.messages.append(input(room, 'again', { clientMessageId: 'c196' }))).toMatchObject({
      status: 'duplicate',
      message: { seq: 196 },
    });
    expect(await node!.messages.append(input(room, 'again', { clientMessageId: 'c195' }))).toMatchObject({
      status: 'created',
      message: { seq: 201 },
    });
  });

  it('delivers concurrent appends from several nodes to subscribers in seq order (pitfalls §6)', async () => {
    const nodes = await backend.cluster(3);
    const room = await openRoom(nodes[0]!);
    const recorders = nodes.map(() => createRecorder());
    await Promise.all(nodes.map((node, n) => node.bus.subscribe(room, recorders[n]!)));
    await Promise.all(Array.from({ length: 60 }, (_, n) => nodes[n % nodes.length]!.messages.append(input(room, `m${n}`))));
    const all = Array.from({ length: 60 }, (_, n) => n + 1);
    await waitFor(() => recorders.every((r) => r.events.length === 60), 5_000, 'every message everywhere');
    for (const recorder of recorders) expect(recorder.seqs()).toEqual(all);
  });
});

describe('MessageStore over Redis: UNAVAILABLE means nothing stored', () => {
  it('rejects at once with UNAVAILABLE while Redis is down, and stores or publishes nothing', async () => {
    const server = await privateRedisServer();
    const [node] = await redisCluster(server, 1, { commandTimeoutMs: 500 });
    const room = await openRoom(node!);
    await node!.messages.append(input(room, 'before'));
    await server.stop();
    await expect(within(node!.messages.append(input(room, 'lost')), 3_000)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(within(node!.messages.lastSeq(room), 3_000)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(within(node!.messages.latest(room, 5), 3_000)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(await node!.ping()).toBe(false);
    await server.restart();
    await waitFor(() => node!.ping(), 10_000, 'ready again');
    // Without persistence the restarted Redis is empty: the failed append did not come back with it.
    expect(await node!.messages.lastSeq(room)).toBe(0);
  });

  it('an append whose reply is lost after Redis ran it answers the stored message, not UNAVAILABLE', async () => {
    const server = await privateRedisServer();
    const proxy = await startReplyDroppingProxy(server.port);
    const [viaProxy] = await redisCluster(server, 1, { url: proxy.url, commandTimeoutMs: 500 });
    const room = await openRoom(viaProxy!);
    // The first append loads the script (EVALSHA, NOSCRIPT, EVAL); the next one is a single EVALSHA.
    await viaProxy!.messages.append(input(room, 'before'));
    proxy.dropNextReplyTo(/EVALSHA/i);
    const result = await within(viaProxy!.messages.append(input(room, 'reply lost')), 10_000, 'the append to settle');
    expect([result.status, stored(result).seq, stored(result).body]).toEqual(['created', 2, 'reply lost']);
    await waitFor(() => viaProxy!.ping(), 10_000, 'the proxy connection back');
    expect((await viaProxy!.messages.latest(room, 10)).map((m) => m.body)).toEqual(['before', 'reply lost']);
  });

  it('sends no append into a Redis that stopped answering since the last one: a PING goes first, and UNAVAILABLE', async () => {
    const server = await privateRedisServer();
    const [node] = await redisCluster(server, 1, { commandTimeoutMs: 300 });
    const room = await openRoom(node!);
    await node!.messages.append(input(room, 'before'));
    const appendsRun = async () =>
      Number(/cmdstat_evalsha:calls=(\d+)/.exec(String(await server.command('INFO', 'commandstats')))?.[1] ?? 0);
    const runsBefore = await appendsRun();
    server.pause();
    try {
      await expect(within(node!.messages.append(input(room, 'sent, never answered')), 8_000)).rejects.toMatchObject({
        code: 'UNAVAILABLE',
      });
      await expect(within(node!.messages.append(input(room, 'not sent')), 5_000)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    } finally {
      server.resume();
    }
    await waitFor(() => node!.ping(), 10_000, 'answering again');
    // The first reached Redis (and was refused there, past its deadline); the second never left this process.
    expect(await appendsRun()).toBe(runsBefore + 1);
    expect((await node!.messages.append(input(room, 'after'))).status).toBe('created');
    expect((await node!.messages.latest(room, 10)).map((m) => m.body)).toEqual(['before', 'after']);
  });

  it('an append that a frozen Redis runs after we answered UNAVAILABLE stores and publishes nothing', async () => {
    const server = await privateRedisServer();
    const [a, b] = await redisCluster(server, 2, { commandTimeoutMs: 300 });
    const room = await openRoom(a!);
    const recorder = createRecorder();
    await b!.bus.subscribe(room, recorder);
    await a!.messages.append(input(room, 'before'));
    server.pause();
    // Reply timeout (3 x 300 ms) plus the settle (10 x 300 ms), with room to spare.
    await expect(within(a!.messages.append(input(room, 'late', { clientMessageId: 'x' })), 8_000)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    // Past the script's deadline (half the command timeout) in any case, then let Redis run what it buffered.
    await new Promise((resolve) => setTimeout(resolve, 300));
    server.resume();
    await waitFor(() => a!.ping(), 10_000, 'answering again');
    expect(await a!.messages.lastSeq(room)).toBe(1);
    const retry = await a!.messages.append(input(room, 'late', { clientMessageId: 'x' }));
    expect([retry.status, stored(retry).seq]).toEqual(['created', 2]);
    await waitFor(() => recorder.events.length === 2, 5_000, 'two messages');
    expect(recorder.seqs()).toEqual([1, 2]);
  });
});
