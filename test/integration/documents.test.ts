import { describe, expect, it } from 'vitest';
import { createRoom, user } from '../utils/chat.ts';
import {
  DOCUMENT,
  MOVE_CURSOR,
  CREATE_DOCUMENT,
  createDocument,
  editDocumentHttp,
  readDocument,
  type OperationField,
} from '../utils/documents.ts';
import { errorCodes, gql } from '../utils/http-client.ts';
import { startRedisServer } from '../utils/redis-server.ts';
import { startTestApp } from '../utils/test-app.ts';
import { onTestFinished } from 'vitest';

async function setup(env: Record<string, string> = {}, text = 'héllo 🙂') {
  const app = await startTestApp({ EDIT_RATE: '1000', ...env });
  const alice = await user('alice');
  const roomId = await createRoom(app.graphqlUrl, alice.token, { name: 'docs' });
  const documentId = await createDocument(app.graphqlUrl, alice.token, roomId, text);
  return { app, alice, roomId, documentId };
}

describe('documents over GraphQL', () => {
  it('creates a document in a room, lists it under Room.documents and reads it by id at version 0', async () => {
    const { app, alice, roomId, documentId } = await setup();
    const read = await gql(app.graphqlUrl, DOCUMENT, { id: documentId }, alice.token);
    expect(read).toEqual({ data: { document: { id: documentId, roomId, title: 'notes', text: 'héllo 🙂', version: 0 } } });
    const listed = await gql(app.graphqlUrl, 'query($id: ID!) { room(id: $id) { documents { id version } } }', { id: roomId }, alice.token);
    expect(listed.data).toEqual({ room: { documents: [{ id: documentId, version: 0 }] } });
    expect(await gql(app.graphqlUrl, DOCUMENT, { id: 'd_unknown' }, alice.token)).toEqual({ data: { document: null } });
    const anonymous = await gql(app.graphqlUrl, CREATE_DOCUMENT, { roomId, title: 't' });
    expect(errorCodes(anonymous)).toEqual(['UNAUTHENTICATED']);
  });

  it('commits an edit as the next version in its normalised form, positions in code points', async () => {
    const { app, alice, documentId } = await setup();
    // 'héllo 🙂' is 7 code points, the emoji one of them; the trailing retain is dropped, retains and inserts merged.
    const response = await editDocumentHttp(
      app.graphqlUrl,
      alice.token,
      documentId,
      0,
      [{ retain: 1 }, { delete: 1 }, { insert: 'e' }, { retain: 2 }, { retain: 2 }, { insert: '!' }, { insert: '🎉' }, { retain: 1 }],
      'c1',
    );
    expect(response.errors).toBeUndefined();
    expect(response.data!.editDocument).toMatchObject({
      documentId,
      version: 1,
      operation: [
        { retain: 1, insert: null, delete: null },
        { retain: null, insert: null, delete: 1 },
        { retain: null, insert: 'e', delete: null },
        { retain: 4, insert: null, delete: null },
        { retain: null, insert: '!🎉', delete: null },
      ],
      author: { id: 'alice', name: 'Alice' },
      clientEditId: 'c1',
    });
    expect(await readDocument(app.graphqlUrl, alice.token, documentId)).toEqual({ text: 'hello !🎉🙂', version: 1 });
  });

  it('transforms an edit against those committed after its baseVersion: the earlier insert stays left', async () => {
    const { app, alice, documentId } = await setup({}, 'ab');
    const bob = await user('bob');
    await editDocumentHttp(app.graphqlUrl, alice.token, documentId, 0, [{ retain: 1 }, { insert: 'A' }]);
    const late = await editDocumentHttp(app.graphqlUrl, bob.token, documentId, 0, [
      { retain: 1 },
      { insert: 'B' },
      { retain: 1 },
      { insert: 'C' },
    ]);
    expect(late.data!.editDocument).toMatchObject({
      version: 2,
      operation: [{ retain: 2 }, { insert: 'B' }, { retain: 1 }, { insert: 'C' }],
    });
    expect(await readDocument(app.graphqlUrl, alice.token, documentId)).toEqual({ text: 'aABbC', version: 2 });
  });

  it('commits an edit that concurrent edits turned into a no-op, with an empty operation', async () => {
    const { app, alice, documentId } = await setup({}, 'abc');
    await editDocumentHttp(app.graphqlUrl, alice.token, documentId, 0, [{ retain: 1 }, { delete: 1 }]);
    const again = await editDocumentHttp(app.graphqlUrl, alice.token, documentId, 0, [{ retain: 1 }, { delete: 1 }]);
    expect(again.data!.editDocument).toMatchObject({ version: 2, operation: [] });
    expect(await readDocument(app.graphqlUrl, alice.token, documentId)).toEqual({ text: 'ac', version: 2 });
  });

  it('answers BAD_USER_INPUT, committing nothing, for invalid operations and versions', async () => {
    const { app, alice, documentId } = await setup({ DOC_MAX_CHARS: '12' }, 'abc');
    await editDocumentHttp(app.graphqlUrl, alice.token, documentId, 0, [{ insert: 'x' }]);
    const invalid: Array<[string, number, OperationField[]]> = [
      ['mixed component', 1, [{ retain: 1, insert: 'x' }]],
      ['empty component', 1, [{}]],
      ['all null', 1, [{ retain: null, insert: null, delete: null }]],
      ['retain 0', 1, [{ retain: 0 }, { insert: 'x' }]],
      ['negative retain', 1, [{ retain: -1 }, { insert: 'x' }]],
      ['delete 0', 1, [{ delete: 0 }]],
      ['empty insert', 1, [{ insert: '' }]],
      ['no components', 1, []],
      ['only a retain', 1, [{ retain: 2 }]],
      ['retain past the end', 1, [{ retain: 5 }, { insert: 'x' }]],
      ['delete past the end', 1, [{ retain: 2 }, { delete: 3 }]],
      ['trailing retain past the end', 1, [{ insert: 'x' }, { retain: 5 }]],
      // At version 0 the text had 3 characters, not 4: checked against the text at baseVersion.
      ['past the end at baseVersion', 0, [{ retain: 4 }, { insert: 'x' }]],
      ['baseVersion above current', 2, [{ insert: 'x' }]],
      ['negative baseVersion', -1, [{ insert: 'x' }]],
      ['text over DOC_MAX_CHARS', 1, [{ insert: '🙂🙂🙂🙂🙂🙂🙂🙂🙂' }]],
    ];
    for (const [what, baseVersion, operation] of invalid) {
      const response = await editDocumentHttp(app.graphqlUrl, alice.token, documentId, baseVersion, operation);
      expect({ what, codes: errorCodes(response) }).toEqual({ what, codes: ['BAD_USER_INPUT'] });
    }
    expect(await readDocument(app.graphqlUrl, alice.token, documentId)).toEqual({ text: 'xabc', version: 1 });
    // Exactly at the limit is fine: 12 code points, 20 UTF-16 units.
    const atLimit = await editDocumentHttp(app.graphqlUrl, alice.token, documentId, 1, [{ insert: '🙂🙂🙂🙂🙂🙂🙂🙂' }]);
    expect(atLimit.errors).toBeUndefined();
    const tooLong = await gql(app.graphqlUrl, CREATE_DOCUMENT, { roomId: 'r', title: 't', text: 'x'.repeat(13) }, alice.token);
    expect(errorCodes(tooLong)).toEqual(['BAD_USER_INPUT']);
  });

  it('answers VERSION_TOO_OLD for a baseVersion older than DOC_HISTORY_LIMIT edits back', async () => {
    const { app, alice, documentId } = await setup({ DOC_HISTORY_LIMIT: '2' }, '');
    for (let version = 0; version < 4; version++) {
      expect(
        (
          await editDocumentHttp(
            app.graphqlUrl,
            alice.token,
            documentId,
            version,
            [{ retain: version }, { insert: 'x' }].slice(version ? 0 : 1),
          )
        ).errors,
      ).toBeUndefined();
    }
    expect(errorCodes(await editDocumentHttp(app.graphqlUrl, alice.token, documentId, 1, [{ insert: 'y' }]))).toEqual(['VERSION_TOO_OLD']);
    const kept = await editDocumentHttp(app.graphqlUrl, alice.token, documentId, 2, [{ insert: 'y' }]);
    expect(kept.data!.editDocument.version).toBe(5);
  });

  it('is idempotent with clientEditId: a retry returns the committed edit and applies nothing twice', async () => {
    const { app, alice, documentId } = await setup({}, 'ab');
    const first = await editDocumentHttp(app.graphqlUrl, alice.token, documentId, 0, [{ insert: 'x' }], 'same');
    await editDocumentHttp(app.graphqlUrl, alice.token, documentId, 1, [{ insert: 'y' }]);
    const retry = await editDocumentHttp(app.graphqlUrl, alice.token, documentId, 0, [{ insert: 'x' }], 'same');
    expect(retry).toEqual(first);
    expect(await readDocument(app.graphqlUrl, alice.token, documentId)).toEqual({ text: 'yxab', version: 2 });
  });

  it('answers RATE_LIMITED past EDIT_RATE (burst allowed), committing nothing', async () => {
    const { app, alice, documentId } = await setup({ EDIT_RATE: '1', EDIT_BURST: '3' }, '');
    // createDocument took one token of the burst.
    const results = [];
    for (let n = 0; n < 3; n++)
      results.push(errorCodes(await editDocumentHttp(app.graphqlUrl, alice.token, documentId, 0, [{ insert: 'x' }])));
    expect(results).toEqual([[], [], ['RATE_LIMITED']]);
    expect((await readDocument(app.graphqlUrl, alice.token, documentId)).version).toBe(2);
  });

  it('answers NOT_FOUND for edits and cursors of an unknown document', async () => {
    const { app, alice } = await setup();
    expect(errorCodes(await editDocumentHttp(app.graphqlUrl, alice.token, 'd_unknown', 0, [{ insert: 'x' }]))).toEqual(['NOT_FOUND']);
    const cursor = await gql(app.graphqlUrl, MOVE_CURSOR, { documentId: 'd_unknown', version: 0, anchor: 0, head: 0 }, alice.token);
    expect(errorCodes(cursor)).toEqual(['NOT_FOUND']);
    const inUnknownRoom = await gql(app.graphqlUrl, CREATE_DOCUMENT, { roomId: 'r_unknown', title: 't' }, alice.token);
    expect(errorCodes(inUnknownRoom)).toEqual(['NOT_FOUND']);
  });

  it('validates moveCursor: negative positions and a version above the current one are BAD_USER_INPUT', async () => {
    const { app, alice, documentId } = await setup();
    const move = (version: number, anchor: number, head: number) =>
      gql<{ moveCursor: boolean }>(app.graphqlUrl, MOVE_CURSOR, { documentId, version, anchor, head }, alice.token);
    expect(await move(0, 1, 3)).toEqual({ data: { moveCursor: true } });
    expect(errorCodes(await move(0, -1, 0))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await move(0, 0, -1))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await move(1, 0, 0))).toEqual(['BAD_USER_INPUT']);
  });

  it("follows the room: a private room's documents are FORBIDDEN to non-members, open to members", async () => {
    const app = await startTestApp();
    const [alice, bob, mallory] = await Promise.all([user('alice'), user('bob'), user('mallory')]);
    const roomId = await createRoom(app.graphqlUrl, alice.token, { name: 'secret', private: true, members: ['bob'] });
    const documentId = await createDocument(app.graphqlUrl, alice.token, roomId, 'secret text');
    expect(errorCodes(await gql(app.graphqlUrl, DOCUMENT, { id: documentId }, mallory.token))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await editDocumentHttp(app.graphqlUrl, mallory.token, documentId, 0, [{ insert: 'x' }]))).toEqual(['FORBIDDEN']);
    const cursor = await gql(app.graphqlUrl, MOVE_CURSOR, { documentId, version: 0, anchor: 0, head: 0 }, mallory.token);
    expect(errorCodes(cursor)).toEqual(['FORBIDDEN']);
    expect(errorCodes(await gql(app.graphqlUrl, CREATE_DOCUMENT, { roomId, title: 'mine' }, mallory.token))).toEqual(['FORBIDDEN']);
    const edited = await editDocumentHttp(app.graphqlUrl, bob.token, documentId, 0, [{ insert: '> ' }]);
    expect(edited.errors).toBeUndefined();
    expect(await readDocument(app.graphqlUrl, alice.token, documentId)).toEqual({ text: '> secret text', version: 1 });
  });

  it('commits concurrent edits sent to two instances sharing Redis once each, as versions 1..N', async () => {
    const redis = await startRedisServer();
    onTestFinished(() => redis.stop());
    const env = { EDIT_RATE: '1000', REDIS_URL: redis.url, REDIS_PREFIX: redis.newPrefix() };
    const { app, alice, documentId } = await setup(env, '');
    const other = await startTestApp(env);
    const editors = await Promise.all(Array.from({ length: 6 }, (_, n) => user(`editor${n}`)));
    // Every edit is written against version 0: all but one lose the compare-and-set at least once.
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, n) =>
        editDocumentHttp(
          (n % 2 ? other : app).graphqlUrl,
          editors[n % 6]!.token,
          documentId,
          0,
          [{ insert: String.fromCodePoint(0x1f600 + n) }],
          `e${n}`,
        ),
      ),
    );
    expect(responses.flatMap((r) => r.errors ?? [])).toEqual([]);
    const versions = responses.map((r) => r.data!.editDocument.version).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 30 }, (_, n) => n + 1));
    const document = await readDocument(other.graphqlUrl, alice.token, documentId);
    expect(document.version).toBe(30);
    expect(new Set(document.text).size).toBe(30);
  });

  it('answers UNAVAILABLE while Redis is down, and the edit is not committed (AOF on, checked after restart)', async () => {
    const redis = await startRedisServer({ durable: true });
    onTestFinished(() => redis.stop());
    const { app, alice, documentId } = await setup({ REDIS_URL: redis.url, REDIS_PREFIX: redis.newPrefix() }, 'ab');
    await editDocumentHttp(app.graphqlUrl, alice.token, documentId, 0, [{ insert: 'x' }]);
    await redis.stop();
    const refused = await editDocumentHttp(app.graphqlUrl, alice.token, documentId, 1, [{ insert: 'y' }], 'while-down');
    expect(errorCodes(refused)).toEqual(['UNAVAILABLE']);
    await redis.restart();
    const deadline = Date.now() + 10_000;
    let document: { text: string; version: number } | null = null;
    while (!document && Date.now() < deadline) {
      const response = await gql<{ document: { text: string; version: number } }>(
        app.graphqlUrl,
        DOCUMENT,
        { id: documentId },
        alice.token,
      );
      if (!response.errors) document = response.data!.document;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(document).toMatchObject({ text: 'xab', version: 1 });
  });
});
