import { describe, expect, it } from 'vitest';
import type { DocumentAdapters } from '../../src/documents/ports/index.ts';
import type { ChatAdapters } from '../../src/chat/ports/index.ts';
import { useBackends } from './backends.ts';
import { createRoomService } from '../../src/chat/rooms.ts';
import type { Viewer } from '../../src/chat/types.ts';
import { createDocumentService } from '../../src/documents/documents.ts';

const viewer = (id: string): Viewer => ({ id, name: id, roles: [], expiresAt: Date.now() + 3_600_000 });

describe.each(useBackends())('edits of one document on one instance ($name)', (backend) => {
  it('commit in turn: 40 concurrent edits on a stale base all commit, even with two commit attempts each', async () => {
    const [node] = await backend.cluster(1);
    const adapters = node as ChatAdapters & DocumentAdapters;
    const rooms = createRoomService({ store: adapters.rooms, limiter: adapters.roomRate });
    // Two attempts: edits that raced each other for the compare-and-set would mostly be answered UNAVAILABLE.
    const documents = createDocumentService({
      store: adapters.documents,
      bus: adapters.documentBus,
      rooms,
      limiter: adapters.editRate,
      cursorLimiter: adapters.cursorRate,
      maxCommitAttempts: 2,
    });
    const alice = viewer('alice');
    const room = await rooms.create(alice, { name: 'doc room' });
    const document = await documents.create(alice, { roomId: room.id, title: 'notes', text: '' });

    const edits = await Promise.allSettled(
      Array.from({ length: 40 }, async (_, i) =>
        documents.edit(viewer(`u${i}`), {
          documentId: document.id,
          baseVersion: 0,
          operation: [{ insert: String.fromCharCode(97 + (i % 26)) }],
          clientEditId: `e${i}`,
        }),
      ),
    );
    expect(edits.filter((edit) => edit.status === 'rejected')).toEqual([]);
    const versions = edits.map((edit) => (edit.status === 'fulfilled' ? edit.value.version : 0)).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect((await documents.find(alice, document.id))?.text).toHaveLength(40);
  });
});
