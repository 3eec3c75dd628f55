import { describe, expect, it } from 'vitest';
import { createRoom, user } from '../utils/chat.ts';
import { DOCUMENT_EVENTS, MOVE_CURSOR, createDocument, documentEventsOf, editDocumentHttp } from '../utils/documents.ts';
import { errorCodes, gql } from '../utils/http-client.ts';
import { subscribeSse } from '../utils/sse-client.ts';
import { startTestApp } from '../utils/test-app.ts';
import { waitFor } from '../utils/wait.ts';
import { connectAuthed, type RawClient } from '../utils/ws-client.ts';

async function setup(env: Record<string, string> = {}, text = 'héllo 🙂') {
  const app = await startTestApp({ EDIT_RATE: '1000', ...env });
  const alice = await user('alice');
  const bob = await user('bob');
  const roomId = await createRoom(app.graphqlUrl, alice.token, { name: 'docs' });
  const documentId = await createDocument(app.graphqlUrl, alice.token, roomId, text);
  return { app, alice, bob, roomId, documentId };
}

const edits = (client: RawClient, id: string) =>
  documentEventsOf(client.nexts(id)).filter((event) => event.__typename === 'DocumentEdited');
/** The codes a refused subscription ends with: an `error` message, or a `next` with errors then `complete`. */
async function errorOf(client: RawClient, id: string): Promise<string[]> {
  const end = await client.waitFor((m) => m.id === id && (m.type === 'error' || m.type === 'complete'));
  const errors = (end.type === 'error' ? end.payload : client.nexts(id)[0]?.errors) as Array<{ extensions: { code: string } }>;
  return errors.map((e) => e.extensions.code);
}
const EDITORS = 'query ($id: ID!) { document(id: $id) { editors { user { id } connections } } }';

describe('documentEvents', () => {
  it('delivers every edit once in version order, own edits with their clientEditId; afterVersion replays then goes live', async () => {
    const { app, alice, bob, documentId } = await setup();
    const a = await connectAuthed(app.wsUrl, alice.token);
    a.subscribe('live', DOCUMENT_EVENTS, { documentId });
    await a.waitForNexts('live', 1); // its own EditorJoined: live from here
    for (let n = 0; n < 5; n++) {
      const response = await editDocumentHttp(
        app.graphqlUrl,
        n % 2 ? bob.token : alice.token,
        documentId,
        n,
        [{ insert: String(n) }],
        `e${n}`,
      );
      expect(response.errors).toBeUndefined();
    }
    await waitFor(() => edits(a, 'live').length === 5, 5_000);
    expect(edits(a, 'live').map((e) => [e.version, e.clientEditId, e.author.id])).toEqual([
      [1, 'e0', 'alice'],
      [2, 'e1', 'bob'],
      [3, 'e2', 'alice'],
      [4, 'e3', 'bob'],
      [5, 'e4', 'alice'],
    ]);
    expect(edits(a, 'live')[0]).toMatchObject({ documentId, operation: [{ retain: null, insert: '0', delete: null }] });

    const b = await connectAuthed(app.wsUrl, bob.token);
    b.subscribe('resume', DOCUMENT_EVENTS, { documentId, afterVersion: 2 });
    await waitFor(() => edits(b, 'resume').length === 3, 5_000);
    await editDocumentHttp(app.graphqlUrl, bob.token, documentId, 5, [{ insert: 'z' }]);
    await waitFor(() => edits(b, 'resume').length === 4, 5_000);
    expect(edits(b, 'resume').map((e) => e.version)).toEqual([3, 4, 5, 6]);
    b.subscribe('current', DOCUMENT_EVENTS, { documentId, afterVersion: 6 });
    await editDocumentHttp(app.graphqlUrl, bob.token, documentId, 6, [{ insert: 'y' }]);
    await waitFor(() => edits(b, 'current').length === 1, 5_000);
    expect(edits(b, 'current').map((e) => e.version)).toEqual([7]);
  });

  it('refuses afterVersion above the current version or negative (BAD_USER_INPUT), unknown ids (NOT_FOUND), outsiders of a private room (FORBIDDEN), a trimmed log (VERSION_TOO_OLD)', async () => {
    const { app, alice, bob, documentId } = await setup({ DOC_HISTORY_LIMIT: '2' }, '');
    for (let n = 0; n < 4; n++) await editDocumentHttp(app.graphqlUrl, alice.token, documentId, n, [{ insert: 'x' }]);
    const privateRoom = await createRoom(app.graphqlUrl, alice.token, { name: 'secret', private: true });
    const secret = await createDocument(app.graphqlUrl, alice.token, privateRoom, 'psst');
    const b = await connectAuthed(app.wsUrl, bob.token);
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['above', { documentId, afterVersion: 5 }, 'BAD_USER_INPUT'],
      ['negative', { documentId, afterVersion: -1 }, 'BAD_USER_INPUT'],
      ['unknown', { documentId: 'd_nope' }, 'NOT_FOUND'],
      ['private', { documentId: secret }, 'FORBIDDEN'],
      ['old', { documentId, afterVersion: 1 }, 'VERSION_TOO_OLD'],
    ];
    for (const [id, variables] of cases) b.subscribe(id, DOCUMENT_EVENTS, variables);
    for (const [id, , code] of cases) expect([id, await errorOf(b, id)]).toEqual([id, [code]]);
    // The log still reaches back to 2: a replay from there works.
    b.subscribe('kept', DOCUMENT_EVENTS, { documentId, afterVersion: 2 });
    await waitFor(() => edits(b, 'kept').length === 2, 5_000);
    expect(edits(b, 'kept').map((e) => e.version)).toEqual([3, 4]);
  });

  it('announces editors like members (first and last subscription), lists them in Document.editors, and sends cursors to everyone but the mover', async () => {
    const { app, alice, bob, documentId } = await setup();
    const a = await connectAuthed(app.wsUrl, alice.token);
    a.subscribe('a', DOCUMENT_EVENTS, { documentId });
    await a.waitForNexts('a', 1);
    const b = await connectAuthed(app.wsUrl, bob.token);
    b.subscribe('b1', DOCUMENT_EVENTS, { documentId });
    b.subscribe('b2', DOCUMENT_EVENTS, { documentId });
    await waitFor(() => documentEventsOf(a.nexts('a')).length >= 2, 5_000);
    expect((await gql(app.graphqlUrl, EDITORS, { id: documentId }, alice.token)).data).toEqual({
      document: {
        editors: expect.arrayContaining([
          { user: { id: 'alice' }, connections: 1 },
          { user: { id: 'bob' }, connections: 2 },
        ]),
      },
    });
    expect((await gql(app.graphqlUrl, MOVE_CURSOR, { documentId, version: 0, anchor: 1, head: 3 }, bob.token)).data).toEqual({
      moveCursor: true,
    });
    expect(errorCodes(await gql(app.graphqlUrl, MOVE_CURSOR, { documentId, version: 1, anchor: 0, head: 0 }, bob.token))).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect(errorCodes(await gql(app.graphqlUrl, MOVE_CURSOR, { documentId, version: 0, anchor: -1, head: 0 }, bob.token))).toEqual([
      'BAD_USER_INPUT',
    ]);
    await waitFor(() => documentEventsOf(a.nexts('a')).some((e) => e.__typename === 'CursorMoved'), 5_000);
    // An edit after the cursor: once it arrives everywhere, the cursor would have arrived before it (one channel).
    await editDocumentHttp(app.graphqlUrl, alice.token, documentId, 0, [{ insert: '!' }]);
    await waitFor(() => edits(b, 'b1').length === 1 && edits(b, 'b2').length === 1, 5_000);
    expect(documentEventsOf(a.nexts('a')).map((e) => e.__typename)).toEqual([
      'EditorJoined',
      'EditorJoined',
      'CursorMoved',
      'DocumentEdited',
    ]);
    expect(documentEventsOf(a.nexts('a'))[2]).toMatchObject({ documentId, user: { id: 'bob' }, version: 0, anchor: 1, head: 3 });
    expect(documentEventsOf(b.nexts('b1')).map((e) => e.__typename)).not.toContain('CursorMoved');
    expect(documentEventsOf(b.nexts('b2')).map((e) => e.__typename)).not.toContain('CursorMoved');
    b.complete('b1');
    b.complete('b2');
    await waitFor(() => documentEventsOf(a.nexts('a')).some((e) => e.__typename === 'EditorLeft'), 5_000);
    expect(
      documentEventsOf(a.nexts('a'))
        .filter((e) => e.__typename !== 'DocumentEdited' && e.__typename !== 'CursorMoved')
        .map((e) => [e.__typename, e.user.id]),
    ).toEqual([
      ['EditorJoined', 'alice'],
      ['EditorJoined', 'bob'],
      ['EditorLeft', 'bob'],
    ]);
    expect((await gql(app.graphqlUrl, EDITORS, { id: documentId }, alice.token)).data).toEqual({
      document: { editors: [{ user: { id: 'alice' }, connections: 1 }] },
    });
  });

  it('bounds moveCursor per user with CURSOR_RATE: past the bucket RATE_LIMITED, nothing broadcast', async () => {
    const { app, alice, bob, documentId } = await setup({ CURSOR_RATE: '2' });
    const a = await connectAuthed(app.wsUrl, alice.token);
    a.subscribe('a', DOCUMENT_EVENTS, { documentId });
    await a.waitForNexts('a', 1);
    const move = async (anchor: number) => gql(app.graphqlUrl, MOVE_CURSOR, { documentId, version: 0, anchor, head: anchor }, bob.token);
    const answers = [await move(1), await move(2), await move(3)];
    expect(answers.map((answer) => answer.data?.moveCursor ?? errorCodes(answer)[0])).toEqual([true, true, 'RATE_LIMITED']);
    // An edit published after the refused move: when it has arrived, the refused cursor would have too.
    await editDocumentHttp(app.graphqlUrl, alice.token, documentId, 0, [{ insert: '!' }]);
    await waitFor(() => edits(a, 'a').length === 1, 5_000);
    expect(
      documentEventsOf(a.nexts('a'))
        .filter((e) => e.__typename === 'CursorMoved')
        .map((e) => e.anchor),
    ).toEqual([1, 2]);
  });

  it('works the same over SSE: an editor there is present, gets the replay and live edits, and leaves when the request ends', async () => {
    const { app, alice, bob, documentId } = await setup();
    await editDocumentHttp(app.graphqlUrl, alice.token, documentId, 0, [{ insert: 'a' }]);
    const a = await connectAuthed(app.wsUrl, alice.token);
    a.subscribe('a', DOCUMENT_EVENTS, { documentId });
    await a.waitForNexts('a', 1);
    const sse = await subscribeSse(app.graphqlUrl, DOCUMENT_EVENTS, { documentId, afterVersion: 0 }, { token: bob.token });
    await editDocumentHttp(app.graphqlUrl, alice.token, documentId, 1, [{ insert: 'b' }]);
    const received = await sse.waitForNexts(3);
    expect(received.map((payload) => payload.data.documentEvents).map((e) => `${e.__typename} ${e.version ?? e.user.id}`)).toEqual([
      'DocumentEdited 1',
      'EditorJoined bob',
      'DocumentEdited 2',
    ]);
    await sse.close();
    await waitFor(() => documentEventsOf(a.nexts('a')).some((e) => e.__typename === 'EditorLeft' && e.user.id === 'bob'), 5_000);
  });
});
