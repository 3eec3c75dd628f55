import { type } from 'ot-text-unicode';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createMemoryAdapters } from '../../src/adapters/memory/index.ts';
import { silentLogger } from '../../src/chat/logger.ts';
import type { DocumentAdapters, DocumentEventListener, CommitEditInput } from '../../src/documents/ports/index.ts';
import type { DocumentEvent, TextOp } from '../../src/documents/types.ts';
import type { User } from '../../src/chat/types.ts';
import { startReplyDroppingProxy } from '../utils/reply-dropping-proxy.ts';
import { useRedis } from '../utils/redis-server.ts';
import { waitFor, within } from '../utils/wait.ts';
import { privateRedisServer, redisCluster } from './backends.ts';
import { alice, bob } from './recorder.ts';

interface DocumentBackend {
  name: 'memory' | 'redis';
  /** `count` handles on one cluster (memory: the same adapters; Redis: one adapter set per node, one prefix). */
  cluster(count: number, options?: { docHistoryLimit?: number }): Promise<DocumentAdapters[]>;
}

const redisServer = useRedis();
const backends: DocumentBackend[] = [
  {
    name: 'memory',
    async cluster(count, options) {
      const adapters = createMemoryAdapters({ logger: silentLogger, historyLimit: 100, messageRate: 1, messageBurst: 1, ...options });
      onTestFinished(() => adapters.close());
      return Array.from({ length: count }, () => adapters);
    },
  },
  {
    name: 'redis',
    async cluster(count, options) {
      const running = redisServer();
      const prefix = running.newPrefix();
      onTestFinished(() => running.deleteKeys(prefix));
      return redisCluster(running, count, { prefix, ...options });
    },
  },
];

let counter = 0;
const uniqueDocumentId = () => `d_test${++counter}_${Math.random().toString(36).slice(2, 8)}`;

async function newDocument(node: DocumentAdapters, text = '', roomId = 'r_docs'): Promise<string> {
  const id = uniqueDocumentId();
  await node.documents.create({ id, roomId, title: `title ${id}`, createdAt: '2026-01-01T00:00:00.000Z', createdBy: alice.id, text });
  return id;
}

const edit = (
  documentId: string,
  expectedVersion: number,
  text: string,
  operation: TextOp,
  extra: Partial<CommitEditInput> = {},
): CommitEditInput => ({
  documentId,
  expectedVersion,
  operation,
  text,
  author: alice,
  clientEditId: null,
  at: '2026-01-01T00:00:01.000Z',
  ...extra,
});

/** Reads the head, transforms `op` (against the text at `baseVersion`) and commits, retrying lost races, as the domain does. */
async function commitTransformed(node: DocumentAdapters, documentId: string, baseVersion: number, op: TextOp, author: User = alice) {
  let version = baseVersion;
  for (let attempt = 0; attempt < 1_000; attempt++) {
    const since = await node.documents.readSince(documentId, version);
    for (const committed of since!.edits!) op = type.transform(op, committed.operation, 'right');
    const result = await node.documents.commit(
      edit(documentId, since!.document.version, type.apply(since!.document.text, op), op, { author }),
    );
    if (result.status !== 'conflict') return { result, attempts: attempt + 1 };
    version = since!.document.version;
  }
  throw new Error('never committed');
}

function createRecorder(): DocumentEventListener & { events: DocumentEvent[]; versions(): number[] } {
  const recorder = {
    events: [] as DocumentEvent[],
    onEvent: (event: DocumentEvent) => void recorder.events.push(event),
    onPossibleGap: () => undefined,
    versions: () => recorder.events.map((event) => (event.kind === 'edited' ? event.edit.version : -1)),
  };
  return recorder;
}

describe.each(backends)('DocumentStore contract: $name', (backend) => {
  it('creates documents at version 0, lists them per room in creation order, and reads unknown ids as null', async () => {
    const [a, b] = await backend.cluster(2);
    const room = `r_${uniqueDocumentId()}`;
    const first = await newDocument(a!, 'héllo 🙂', room);
    const second = await newDocument(a!, '', room);
    expect(await b!.documents.get(first)).toEqual({
      id: first,
      roomId: room,
      title: `title ${first}`,
      createdAt: '2026-01-01T00:00:00.000Z',
      createdBy: alice.id,
      text: 'héllo 🙂',
      version: 0,
    });
    expect((await b!.documents.listByRoom(room)).map((d) => [d.id, d.version])).toEqual([
      [first, 0],
      [second, 0],
    ]);
    expect(await b!.documents.head(first)).toEqual({
      id: first,
      roomId: room,
      title: `title ${first}`,
      createdAt: '2026-01-01T00:00:00.000Z',
      createdBy: alice.id,
      version: 0,
    });
    expect(await b!.documents.get('d_nope')).toBeNull();
    expect(await b!.documents.head('d_nope')).toBeNull();
    expect(await b!.documents.readSince('d_nope', 0)).toBeNull();
    expect(await b!.documents.listByRoom('r_nope')).toEqual([]);
  });

  it('commits versions 1, 2, 3 with their text, publishes each on the document channel in version order, and reads them back', async () => {
    const [a, b] = await backend.cluster(2);
    const id = await newDocument(a!, 'ab');
    const other = await newDocument(a!, 'zz');
    const recorder = createRecorder();
    const otherRecorder = createRecorder();
    await b!.documentBus.subscribe(id, recorder);
    await b!.documentBus.subscribe(other, otherRecorder);
    const ops: TextOp[] = [[1, 'x'], [{ d: 1 }], [2, '🎉 "quoted" \\ \n']];
    const results = [];
    let text = 'ab';
    for (const [n, op] of ops.entries()) {
      text = type.apply(text, op);
      results.push(await a!.documents.commit(edit(id, n, text, op, { clientEditId: n === 1 ? 'c1' : null })));
    }
    expect(results.map((r) => [r.status, r.status !== 'conflict' && r.edit.version])).toEqual([
      ['committed', 1],
      ['committed', 2],
      ['committed', 3],
    ]);
    expect(results[1]).toEqual({
      status: 'committed',
      edit: { documentId: id, version: 2, operation: [{ d: 1 }], author: alice, clientEditId: 'c1', at: '2026-01-01T00:00:01.000Z' },
    });
    expect(await b!.documents.get(id)).toMatchObject({ text: 'xb🎉 "quoted" \\ \n', version: 3 });
    expect((await b!.documents.head(id))!.version).toBe(3);
    const since = await b!.documents.readSince(id, 1);
    expect([since!.document.version, since!.edits!.map((e) => e.version)]).toEqual([3, [2, 3]]);
    expect((await b!.documents.editsAfter(id, 0, 2))!.map((e) => e.operation)).toEqual(ops.slice(0, 2));
    expect(await b!.documents.editsAfter(id, 3, 10)).toEqual([]);
    await waitFor(() => recorder.events.length === 3, 5_000, 'three edits on the channel');
    expect(recorder.events.map((e) => e.kind === 'edited' && e.edit)).toEqual(results.map((r) => r.status !== 'conflict' && r.edit));
    expect(otherRecorder.events).toEqual([]);
  });

  it('refuses a commit whose expected version is not the head (compare-and-set): nothing written or published', async () => {
    const [node] = await backend.cluster(1);
    const id = await newDocument(node!, 'abc');
    const recorder = createRecorder();
    await node!.documentBus.subscribe(id, recorder);
    await node!.documents.commit(edit(id, 0, 'abcd', [3, 'd']));
    expect(await node!.documents.commit(edit(id, 0, 'Xabc', ['X']))).toEqual({ status: 'conflict', headVersion: 1 });
    expect(await node!.documents.commit(edit(id, 5, 'Xabc', ['X']))).toEqual({ status: 'conflict', headVersion: 1 });
    expect(await node!.documents.get(id)).toMatchObject({ text: 'abcd', version: 1 });
    await waitFor(() => recorder.events.length >= 1, 5_000, 'the committed edit');
    expect(recorder.versions()).toEqual([1]);
  });

  it('commits each version once when several nodes race on one document: 1..N in order everywhere, every edit applied', async () => {
    const nodes = await backend.cluster(3);
    const id = await newDocument(nodes[0]!, '');
    const recorders = nodes.map(() => createRecorder());
    await Promise.all(nodes.map((node, n) => node.documentBus.subscribe(id, recorders[n]!)));
    const perNode = 15;
    const outcomes = await Promise.all(
      nodes.map(async (node, n) => {
        const results = [];
        // Every edit is written against version 0, so all but the first race and transform.
        for (let k = 0; k < perNode; k++) results.push(await commitTransformed(node, id, 0, [String.fromCodePoint(0x61 + n)]));
        return results;
      }),
    );
    const total = nodes.length * perNode;
    const versions = outcomes.flat().map(({ result }) => result.status === 'committed' && result.edit.version);
    expect([...versions].sort((x, y) => Number(x) - Number(y))).toEqual(Array.from({ length: total }, (_, n) => n + 1));
    const head = await nodes[1]!.documents.get(id);
    expect(head!.version).toBe(total);
    for (const letter of ['a', 'b', 'c']) expect([...head!.text].filter((c) => c === letter)).toHaveLength(perNode);
    await waitFor(() => recorders.every((r) => r.events.length === total), 10_000, 'every edit on every node');
    for (const recorder of recorders) expect(recorder.versions()).toEqual(Array.from({ length: total }, (_, n) => n + 1));
    // Replaying the log from the created text gives the head text.
    const log = (await nodes[2]!.documents.editsAfter(id, 0, total))!;
    expect(log.reduce((text, e) => type.apply(text, e.operation), '')).toBe(head!.text);
  });

  it('is idempotent per author and document with clientEditId: a retry returns the committed edit and applies nothing', async () => {
    const [a, b] = await backend.cluster(2);
    const id = await newDocument(a!, 'ab');
    const other = await newDocument(a!, 'ab');
    const recorder = createRecorder();
    await b!.documentBus.subscribe(id, recorder);
    const first = await a!.documents.commit(edit(id, 0, 'abX', [2, 'X'], { clientEditId: 'c1' }));
    expect(first.status).toBe('committed');
    const committed = first.status === 'committed' ? first.edit : null;
    // The retry comes from another node, and would apply at the new head: it is answered from the log instead.
    expect(await b!.documents.commit(edit(id, 1, 'abXX', [3, 'X'], { clientEditId: 'c1' }))).toEqual({
      status: 'duplicate',
      edit: committed,
    });
    expect(await b!.documents.commit(edit(id, 0, 'abX', [2, 'X'], { clientEditId: 'c1' }))).toEqual({
      status: 'duplicate',
      edit: committed,
    });
    expect(await b!.documents.findByClientEditId(id, alice.id, 'c1')).toEqual(committed);
    expect(await b!.documents.findByClientEditId(id, bob.id, 'c1')).toBeNull();
    expect(await b!.documents.findByClientEditId(other, alice.id, 'c1')).toBeNull();
    const byBob = await a!.documents.commit(edit(id, 1, 'abXY', [3, 'Y'], { clientEditId: 'c1', author: bob }));
    const elsewhere = await a!.documents.commit(edit(other, 0, 'abX', [2, 'X'], { clientEditId: 'c1' }));
    expect([byBob.status, elsewhere.status]).toEqual(['committed', 'committed']);
    expect(await a!.documents.get(id)).toMatchObject({ text: 'abXY', version: 2 });
    await waitFor(() => recorder.events.length >= 2, 5_000, 'two edits');
    expect(recorder.versions()).toEqual([1, 2]);
  });

  it('trims the log to the history limit: older versions read as null (VERSION_TOO_OLD), trimmed clientEditIds are forgotten', async () => {
    const [node] = await backend.cluster(1, { docHistoryLimit: 3 });
    const id = await newDocument(node!, '');
    let text = '';
    for (let n = 0; n < 5; n++) {
      text += String(n);
      await node!.documents.commit(edit(id, n, text, type.normalize([n, String(n)]), { clientEditId: `c${n}` }));
    }
    expect((await node!.documents.editsAfter(id, 2, 10))!.map((e) => e.version)).toEqual([3, 4, 5]);
    expect((await node!.documents.editsAfter(id, 3, 1))!.map((e) => e.version)).toEqual([4]);
    expect(await node!.documents.editsAfter(id, 1, 10)).toBeNull();
    expect(await node!.documents.editsAfter(id, 0, 10)).toBeNull();
    expect((await node!.documents.readSince(id, 1))!.edits).toBeNull();
    expect((await node!.documents.readSince(id, 2))!.edits!.map((e) => e.version)).toEqual([3, 4, 5]);
    expect((await node!.documents.readSince(id, 5))!.edits).toEqual([]);
    expect(await node!.documents.findByClientEditId(id, alice.id, 'c0')).toBeNull();
    expect((await node!.documents.findByClientEditId(id, alice.id, 'c4'))!.version).toBe(5);
    expect(await node!.documents.get(id)).toMatchObject({ text: '01234', version: 5 });
  });
});

describe('DocumentStore over Redis: UNAVAILABLE means nothing committed', () => {
  it('rejects with UNAVAILABLE while Redis is down and commits nothing', async () => {
    const server = await privateRedisServer();
    const [node] = await redisCluster(server, 1, { commandTimeoutMs: 500 });
    const id = await newDocument(node!, 'ab');
    await server.stop();
    await expect(within(node!.documents.commit(edit(id, 0, 'abc', [2, 'c'])), 5_000)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(within(node!.documents.readSince(id, 0), 3_000)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(within(node!.documents.get(id), 3_000)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('a commit whose reply is lost after Redis ran it answers the committed edit, not UNAVAILABLE', async () => {
    const server = await privateRedisServer();
    const proxy = await startReplyDroppingProxy(server.port);
    const [viaProxy] = await redisCluster(server, 1, { url: proxy.url, commandTimeoutMs: 500 });
    const id = await newDocument(viaProxy!, 'ab');
    // The first commit loads the script (EVALSHA, NOSCRIPT, EVAL); the next one is a single EVALSHA.
    await viaProxy!.documents.commit(edit(id, 0, 'abc', [2, 'c']));
    proxy.dropNextReplyTo(/EVALSHA/i);
    const result = await within(viaProxy!.documents.commit(edit(id, 1, 'abcd', [3, 'd'])), 10_000, 'the commit to settle');
    expect(result).toMatchObject({ status: 'committed', edit: { version: 2, operation: [3, 'd'], clientEditId: null } });
    await waitFor(() => viaProxy!.ping(), 10_000, 'the proxy connection back');
    expect(await viaProxy!.documents.get(id)).toMatchObject({ text: 'abcd', version: 2 });
  });

  it('a commit that a frozen Redis runs after we answered UNAVAILABLE commits and publishes nothing', async () => {
    const server = await privateRedisServer();
    const [a, b] = await redisCluster(server, 2, { commandTimeoutMs: 300 });
    const id = await newDocument(a!, 'ab');
    const recorder = createRecorder();
    await b!.documentBus.subscribe(id, recorder);
    await a!.documents.commit(edit(id, 0, 'abc', [2, 'c']));
    server.pause();
    await expect(within(a!.documents.commit(edit(id, 1, 'abcd', [3, 'd'], { clientEditId: 'x' })), 5_000)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    // Past the script's deadline (half the command timeout) in any case, then let Redis run what it buffered.
    await new Promise((resolve) => setTimeout(resolve, 300));
    server.resume();
    await waitFor(() => a!.ping(), 10_000, 'answering again');
    expect(await a!.documents.get(id)).toMatchObject({ text: 'abc', version: 1 });
    const retry = await a!.documents.commit(edit(id, 1, 'abcd', [3, 'd'], { clientEditId: 'x' }));
    expect(retry).toMatchObject({ status: 'committed', edit: { version: 2 } });
    await waitFor(() => recorder.events.length === 2, 5_000, 'two edits');
    expect(recorder.versions()).toEqual([1, 2]);
  });
});
