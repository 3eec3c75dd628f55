import { describe, expect, it, onTestFinished } from 'vitest';
import { createMemoryAdapters } from '../../src/adapters/memory/index.ts';
import { createChat } from '../../src/chat/index.ts';
import { silentLogger } from '../../src/chat/logger.ts';
import type { Viewer } from '../../src/chat/types.ts';
import { createDocumentEventService } from '../../src/documents/document-events.ts';
import { createDocumentService } from '../../src/documents/documents.ts';
import type { DocumentEvent } from '../../src/documents/types.ts';
import { within } from '../utils/wait.ts';

const viewer = (id: string): Viewer => ({ id, name: id.toUpperCase(), roles: [], expiresAt: Date.now() + 3_600_000 });
const [alice, bob] = [viewer('alice'), viewer('bob')];

/** The documents domain over memory adapters, with a small ephemeral bound so a reader that lags is easy to make. */
async function setup() {
  const adapters = createMemoryAdapters({
    logger: silentLogger,
    historyLimit: 100,
    messageRate: 1_000,
    messageBurst: 1_000,
    editRate: 1_000,
    cursorRate: 1_000,
  });
  const chat = createChat({ adapters, logger: silentLogger });
  onTestFinished(() => chat.close(100));
  const documents = createDocumentService({
    store: adapters.documents,
    bus: adapters.documentBus,
    rooms: chat.rooms,
    limiter: adapters.editRate,
    cursorLimiter: adapters.cursorRate,
  });
  const events = createDocumentEventService({
    documents,
    store: adapters.documents,
    bus: adapters.documentBus,
    roomBus: adapters.bus,
    presence: chat.presence,
    logger: silentLogger,
    queue: { dropEphemeralAbove: 2, maxQueued: 1_000 },
  });
  const room = await chat.rooms.create(alice, { name: 'r' });
  const document = await documents.create(alice, { roomId: room.id, title: 't', text: '' });
  return { documents, events, documentId: document.id };
}

async function take(stream: AsyncIterableIterator<DocumentEvent>, count: number): Promise<DocumentEvent[]> {
  const taken: DocumentEvent[] = [];
  for (let n = 0; n < count; n++) taken.push((await within(stream.next(), 5_000, `event ${n + 1} of ${count}`)).value as DocumentEvent);
  return taken;
}

describe('a document subscriber that falls behind', () => {
  it('loses cursors past the ephemeral bound but never an edit, and never gets its own cursor', async () => {
    const { documents, events, documentId } = await setup();
    const stream = await events.open(alice, { documentId });
    onTestFinished(() => void stream.return?.());
    expect((await take(stream, 1)).map((e) => e.kind)).toEqual(['editorJoined']);
    // Nobody reads while 6 cursors (2 of them alice's own) and 4 edits arrive.
    for (let n = 0; n < 4; n++) {
      await documents.moveCursor(bob, { documentId, version: n, anchor: n, head: n });
      await documents.moveCursor(n < 2 ? alice : bob, { documentId, version: n, anchor: 0, head: 0 });
      await documents.edit(bob, { documentId, baseVersion: n, operation: [{ insert: 'x' }] });
    }
    // Alice's own cursor (second, while one event was queued) is skipped; past 2 queued events bob's are dropped.
    const queued = await take(stream, 5);
    expect(
      queued.map((e) => (e.kind === 'edited' ? `edit ${e.edit.version}` : e.kind === 'cursor' ? `cursor ${e.user.id}` : e.kind)),
    ).toEqual(['cursor bob', 'edit 1', 'edit 2', 'edit 3', 'edit 4']);
    // Reading again: the next cursor is delivered.
    await documents.moveCursor(bob, { documentId, version: 4, anchor: 4, head: 4 });
    expect(await take(stream, 1)).toMatchObject([{ kind: 'cursor', user: { id: 'bob' }, anchor: 4 }]);
  });
});
