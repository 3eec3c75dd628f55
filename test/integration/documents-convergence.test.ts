import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRoom, user } from '../utils/chat.ts';
import { createDocument, readDocument } from '../utils/documents.ts';
import { Editor, live } from '../utils/ot-editor.ts';
import { useRedis } from '../utils/redis-server.ts';
import { startTestApp } from '../utils/test-app.ts';
import { waitFor } from '../utils/wait.ts';

/**
 * Convergence as a property (issue 12): several OT clients edit one document at once through `editDocument`,
 * against stale base versions, with inserts and deletes at random places, emoji and multi-code-point graphemes
 * included. Each client receives the committed edits through its own `documentEvents` subscription (graphql-ws,
 * on the instance it sends through) and applies them only when the schedule delivers them. Seeded: DOC_PROPERTY_SEED=<n> replays a run; fast-check prints the
 * seed and path of a failing one.
 */
const seed = Number(process.env.DOC_PROPERTY_SEED ?? 20_261_129);
const numRuns = Number(process.env.DOC_PROPERTY_RUNS ?? 40);
const redisServer = useRedis();

type Step =
  | { kind: 'insert'; client: number; at: number; text: string }
  | { kind: 'delete'; client: number; at: number; length: number }
  | { kind: 'send'; client: number }
  | { kind: 'deliver'; client: number; count: number }
  | { kind: 'settle' };

const INSERTS = ['a', 'b', 'xyz', '🙂', 'é', '👩‍👩‍👧', '\n', '🎉🎉', 'ü'];
const step = (clients: number): fc.Arbitrary<Step> => {
  const client = fc.nat({ max: clients - 1 });
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('insert' as const), client, at: fc.nat(), text: fc.constantFrom(...INSERTS) }) },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('delete' as const), client, at: fc.nat(), length: fc.integer({ min: 1, max: 4 }) }),
    },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('send' as const), client }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('deliver' as const), client, count: fc.integer({ min: 1, max: 6 }) }) },
    { weight: 2, arbitrary: fc.constant({ kind: 'settle' as const }) },
  );
};
interface Scenario {
  clients: number;
  steps: Step[];
}
const scenario: fc.Arbitrary<Scenario> = fc
  .integer({ min: 2, max: 5 })
  .chain((clients) =>
    fc.record({ clients: fc.constant(clients), steps: fc.array(step(clients), { minLength: 100, maxLength: 300, size: 'max' }) }),
  );

const codePoints = (text: string) => [...text].length;

interface Figures {
  runs: number;
  edits: number;
  clients: number;
  /** Edits acknowledged by editDocument. */
  acknowledged: number;
  lost: number;
}

/**
 * One scenario: client n subscribes to documentEvents (graphql-ws) on instance n % length and sends through the
 * same instance; throws on divergence.
 */
async function run(
  apps: Array<{ graphqlUrl: string; wsUrl: string }>,
  roomId: string,
  { clients: count, steps }: Scenario,
  figures: Figures,
) {
  const alice = await user('alice');
  const initial = 'start 🙂 text';
  const documentId = await createDocument(apps[0]!.graphqlUrl, alice.token, roomId, initial);
  const people = await Promise.all(Array.from({ length: count }, (_, n) => user(`editor${n}`)));
  const editors = people.map((person, n) => {
    const app = apps[n % apps.length]!;
    return new Editor({
      name: `c${n}`,
      token: person.token,
      userId: person.id,
      documentId,
      text: initial,
      version: 0,
      wsUrl: () => app.wsUrl,
      graphqlUrl: () => app.graphqlUrl,
    });
  });
  try {
    await Promise.all(editors.map(async (editor) => live(editor)));
    const failed = () => editors.find((editor) => editor.failure)?.failure;
    for (const action of steps) {
      if (failed()) throw failed();
      if (action.kind === 'settle') {
        await Promise.all(editors.map(async (editor) => editor.settled()));
        continue;
      }
      const editor = editors[action.client]!;
      const client = editor.client;
      if (action.kind === 'insert') {
        client.applyLocal([action.at % (codePoints(client.text) + 1), action.text]);
      } else if (action.kind === 'delete') {
        const length = codePoints(client.text);
        if (length === 0) continue;
        const at = action.at % length;
        client.applyLocal([at, { d: Math.min(action.length, length - at) }]);
      } else if (action.kind === 'send') {
        editor.send();
      } else {
        editor.deliver(action.count);
      }
    }

    // Drain: every pending edit sent and acknowledged, every client caught up through its subscription.
    let head = { text: '', version: -1 };
    await waitFor(
      async () => {
        if (failed()) throw failed();
        for (const editor of editors) {
          editor.deliver();
          editor.send();
        }
        if (editors.some((editor) => editor.sending || editor.client.pending)) return false;
        head = await readDocument(apps[0]!.graphqlUrl, alice.token, documentId);
        return editors.every((editor) => editor.client.version === head.version);
      },
      30_000,
      'editors settled',
    );
    const heads = await Promise.all(apps.map(async (app) => readDocument(app.graphqlUrl, alice.token, documentId)));
    const everyVersion = Array.from({ length: head.version }, (_, n) => n + 1);
    for (const other of heads) expect(other).toEqual(head);
    for (const editor of editors) {
      expect({ text: editor.client.text, version: editor.client.version }).toEqual(head);
      // Through the subscription: versions 1..N, each once, in order.
      expect(editor.seen).toEqual(everyVersion);
    }
    const acknowledged = editors.flatMap((editor) => editor.acknowledged);
    figures.runs += 1;
    figures.edits += head.version;
    figures.clients += count;
    figures.acknowledged += acknowledged.length;
    // Every acknowledged version is one of the log's, none twice; every committed version was acknowledged.
    figures.lost +=
      acknowledged.length - new Set(acknowledged.filter((v) => v >= 1 && v <= head.version)).size + (head.version - acknowledged.length);
  } finally {
    for (const editor of editors) editor.dispose();
  }
}

async function check(apps: Array<{ graphqlUrl: string; wsUrl: string }>, leg: string) {
  const figures: Figures = { runs: 0, edits: 0, clients: 0, acknowledged: 0, lost: 0 };
  // One room for every run (ROOM_RATE), a new document in it per run.
  const roomId = await createRoom(apps[0]!.graphqlUrl, (await user('alice')).token, { name: 'property' });
  await fc.assert(
    fc.asyncProperty(scenario, async (scenario) => run(apps, roomId, scenario, figures)),
    { seed, numRuns, endOnFailure: true },
  );
  console.info(
    `documents convergence (${leg}, seed ${seed}): ${figures.runs} runs, ${figures.edits} edits by ${figures.clients} clients, ${figures.acknowledged} acknowledged, received through documentEvents by every editor, lost ${figures.lost}`,
  );
  expect(figures.lost).toBe(0);
}

const env = { EDIT_RATE: '100000' };

describe('documents converge under concurrent edits (property, fast-check)', () => {
  it('in memory: every client ends with document.text at the same version, versions 1..N once each', async () => {
    const app = await startTestApp(env);
    await check([app], 'memory');
  }, 120_000);

  it('on Redis, two instances sharing it: the same', async () => {
    const redis = redisServer();
    const shared = { ...env, REDIS_URL: redis.url, REDIS_PREFIX: redis.newPrefix() };
    const [a, b] = [await startTestApp(shared), await startTestApp(shared)];
    await check([a, b], 'redis, 2 instances');
  }, 120_000);
});
