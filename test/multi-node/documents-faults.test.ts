import { describe, expect, it } from 'vitest';
import { createRoom, user } from '../utils/chat.ts';
import { DOCUMENT_EVENTS, createDocument, documentEventsOf, readDocument } from '../utils/documents.ts';
import { gql } from '../utils/http-client.ts';
import type { Instance } from '../utils/instance.ts';
import { Editor, live } from '../utils/ot-editor.ts';
import { useRedis } from '../utils/redis-server.ts';
import { waitFor } from '../utils/wait.ts';
import { connectAuthed } from '../utils/ws-client.ts';
import { expectNoUnhandled, readyStatus, startCluster } from './helpers.ts';

// AOF with `appendfsync always` (pitfalls §19): a SIGKILL of Redis keeps every acknowledged commit.
const redisServer = useRedis({ durable: true });

const INSERTS = ['a', 'bc', '🙂', 'é', '👩‍👩‍👧', ' '];
const codePoints = (text: string) => [...text].length;

/** A small seeded PRNG: the fault run is reproducible apart from timing. */
function random(seed: number) {
  let state = seed >>> 0;
  return (max: number) => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state % max;
  };
}

describe('documents under faults (Redis restarted, an instance killed)', () => {
  it('loses no acknowledged edit and every editor converges after resuming with afterVersion', async () => {
    const redis = redisServer();
    const { nodes } = await startCluster(redis, 3, { EDIT_RATE: '100000', EDIT_BURST: '100000' });
    const [a, b, victim] = nodes as [Instance, Instance, Instance];
    const dead = new Set<Instance>();
    const alive = (preferred: Instance) => (dead.has(preferred) ? [a, b].find((node) => !dead.has(node))! : preferred);
    const owner = await user('owner');
    const roomId = await createRoom(a.graphqlUrl, owner.token, { name: 'faults' });
    const initial = 'fault 🙂 text';
    const documentId = await createDocument(a.graphqlUrl, owner.token, roomId, initial);
    const homes = [a, a, b, victim, victim];
    const people = await Promise.all(homes.map(async (_, n) => user(`writer${n}`)));
    const editors = homes.map(
      (home, n) =>
        new Editor({
          name: `w${n}`,
          token: people[n]!.token,
          userId: people[n]!.id,
          documentId,
          text: initial,
          version: 0,
          wsUrl: () => alive(home).wsUrl,
          graphqlUrl: () => alive(home).graphqlUrl,
          resilient: true,
        }),
    );
    await Promise.all(editors.map(async (editor) => live(editor)));

    const next = random(20_261_129);
    let typing = true;
    const acknowledged = () => editors.reduce((sum, editor) => sum + editor.acknowledged.length, 0);
    // Everyone types, sends and applies what arrived, a round every 20 ms, until told to stop.
    const typist = (async () => {
      while (typing) {
        for (const editor of editors) {
          const client = editor.client;
          const length = codePoints(client.text);
          if (next(3) > 0 || length === 0) {
            client.applyLocal([next(length + 1), INSERTS[next(INSERTS.length)]!]);
          } else {
            const at = next(length);
            client.applyLocal([at, { d: Math.min(1 + next(3), length - at) }]);
          }
          editor.send();
          editor.deliver(next(4));
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const moreAcked = async (count: number, what: string) => {
      const target = acknowledged() + count;
      await waitFor(() => acknowledged() >= target, 30_000, `${count} more acknowledged edits ${what}`);
    };

    await moreAcked(30, 'before the faults');
    await redis.stop();
    for (const node of [a, b, victim])
      await waitFor(async () => (await readyStatus(node.url)) === 503, 10_000, '/ready 503 while Redis is down');
    await redis.restart();
    for (const node of [a, b, victim])
      await waitFor(async () => (await readyStatus(node.url)) === 200, 15_000, '/ready 200 after the restart');
    await moreAcked(30, 'after the Redis restart');
    victim.kill('SIGKILL');
    await victim.exited;
    dead.add(victim);
    await moreAcked(30, 'after the instance was killed');
    typing = false;
    await typist;

    // Drain: every pending edit acknowledged, every editor caught up through its (resumed) subscription.
    let head = { text: '', version: -1 };
    await waitFor(
      async () => {
        for (const editor of editors) {
          editor.deliver();
          editor.send();
        }
        if (editors.some((editor) => editor.sending || editor.client.pending)) return false;
        head = await readDocument(a.graphqlUrl, owner.token, documentId);
        return editors.every((editor) => editor.client.version === head.version);
      },
      60_000,
      'editors settled after the faults',
    );
    expect(await readDocument(b.graphqlUrl, owner.token, documentId)).toEqual(head);
    const everyVersion = Array.from({ length: head.version }, (_, n) => n + 1);
    let lost = 0;
    for (const editor of editors) {
      expect({ name: editor.options.name, text: editor.client.text, version: editor.client.version }).toEqual({
        name: editor.options.name,
        ...head,
      });
      expect(editor.seen).toEqual(everyVersion);
      // An acknowledged edit is the version its reply named, as every subscriber received it.
      for (const other of editors) for (const [version, id] of other.acknowledgedIds) if (editor.received.get(version) !== id) lost += 1;
    }
    const versions = editors.flatMap((editor) => editor.acknowledged);
    // The killed instance's editors reconnected elsewhere and resumed from their last version.
    for (const editor of editors.slice(3)) expect(editor.connections).toBeGreaterThan(1);
    expect(new Set(versions).size).toBe(versions.length);
    expect(lost).toBe(0);
    expectNoUnhandled([a, b]);
    console.info(
      `documents faults: ${head.version} edits (${versions.length} acknowledged) by ${editors.length} editors on 3 instances ` +
        `(Redis SIGKILLed and restarted with AOF, one instance SIGKILLed), ${editors.reduce((sum, e) => sum + e.connections - 1, 0)} reconnections ` +
        `and ${editors.reduce((sum, e) => sum + e.resubscribes, 0)} resubscriptions resumed with afterVersion, lost ${lost}`,
    );
  }, 180_000);

  it('reaps the editors of a killed instance: EditorLeft reaches the other instances and document.editors drops them', async () => {
    const redis = redisServer();
    const { nodes } = await startCluster(redis, 2);
    const [a, victim] = nodes as [Instance, Instance];
    const [owner, doomed] = await Promise.all([user('owner'), user('doomed')]);
    const roomId = await createRoom(a.graphqlUrl, owner.token, { name: 'reap' });
    const documentId = await createDocument(a.graphqlUrl, owner.token, roomId, 'x');
    const watcher = await connectAuthed(a.wsUrl, owner.token);
    watcher.subscribe('w', DOCUMENT_EVENTS, { documentId });
    await watcher.waitForNexts('w', 1);
    const editor = await connectAuthed(victim.wsUrl, doomed.token);
    editor.subscribe('e', DOCUMENT_EVENTS, { documentId });
    const seen = () => documentEventsOf(watcher.nexts('w')).map((event) => `${event.__typename} ${event.user?.id}`);
    await waitFor(() => seen().includes('EditorJoined doomed'), 10_000, 'the doomed editor joined');

    victim.kill('SIGKILL');
    await victim.exited;
    // PRESENCE_TTL_MS is 1.5 s here: a surviving instance's reaper announces the dead instance's editors gone.
    await waitFor(() => seen().includes('EditorLeft doomed'), 15_000, "EditorLeft of the killed instance's editor");
    expect(seen()).toEqual(['EditorJoined owner', 'EditorJoined doomed', 'EditorLeft doomed']);
    const editors = await gql<{ document: { editors: Array<{ user: { id: string } }> } }>(
      a.graphqlUrl,
      'query ($id: ID!) { document(id: $id) { editors { user { id } } } }',
      { id: documentId },
      owner.token,
    );
    expect(editors.data!.document.editors.map((presence) => presence.user.id)).toEqual(['owner']);
    expectNoUnhandled([a]);
  }, 60_000);
});
