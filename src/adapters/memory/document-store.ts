import type { DocumentEventBus, DocumentStore } from '../../documents/ports/index.ts';
import type { DocumentEdit, DocumentState } from '../../documents/types.ts';
import { clientMessageKey } from '../client-message-key.ts';

interface StoredDocument {
  state: DocumentState;
  /** Oldest first, consecutive versions ending at `state.version`; trimmed from the front past the limit. */
  log: DocumentEdit[];
  byClientEditId: Map<string, DocumentEdit>;
}

/** Edits after `afterVersion` from a consecutive log; null when the log starts after `afterVersion + 1`. */
function since(log: readonly DocumentEdit[], afterVersion: number): DocumentEdit[] | null {
  const first = log[0];
  if (!first) return [];
  const start = afterVersion + 1 - first.version;
  if (start < 0) return null;
  return log.slice(start);
}

export function createMemoryDocumentStore(bus: DocumentEventBus, historyLimit: number): DocumentStore {
  const documents = new Map<string, StoredDocument>();
  const byRoom = new Map<string, string[]>();
  const snapshot = (stored: StoredDocument): DocumentState => ({ ...stored.state });

  return {
    async create(document) {
      documents.set(document.id, { state: { ...document, version: 0 }, log: [], byClientEditId: new Map() });
      const ids = byRoom.get(document.roomId);
      if (ids) ids.push(document.id);
      else byRoom.set(document.roomId, [document.id]);
    },
    async get(id) {
      const stored = documents.get(id);
      return stored ? snapshot(stored) : null;
    },
    async head(id) {
      const stored = documents.get(id);
      if (!stored) return null;
      const { text: _text, ...head } = stored.state;
      return head;
    },
    async listByRoom(roomId) {
      return (byRoom.get(roomId) ?? []).map((id) => snapshot(documents.get(id) as StoredDocument));
    },
    async readSince(id, afterVersion) {
      const stored = documents.get(id);
      return stored ? { document: snapshot(stored), edits: since(stored.log, afterVersion) } : null;
    },
    async editsAfter(id, afterVersion, limit) {
      const edits = since(documents.get(id)?.log ?? [], afterVersion);
      return edits && edits.slice(0, limit);
    },
    async findByClientEditId(id, authorId, clientEditId) {
      return documents.get(id)?.byClientEditId.get(clientMessageKey(authorId, clientEditId)) ?? null;
    },
    async commit(input) {
      const stored = documents.get(input.documentId);
      if (!stored) throw new Error(`commit: no document ${input.documentId}`);
      const key = input.clientEditId === null ? null : clientMessageKey(input.author.id, input.clientEditId);
      const existing = key === null ? undefined : stored.byClientEditId.get(key);
      if (existing) return { status: 'duplicate', edit: existing };
      if (stored.state.version !== input.expectedVersion) return { status: 'conflict', headVersion: stored.state.version };

      const edit: DocumentEdit = {
        documentId: input.documentId,
        version: input.expectedVersion + 1,
        operation: input.operation,
        author: input.author,
        clientEditId: input.clientEditId,
        at: input.at,
      };
      stored.state = { ...stored.state, text: input.text, version: edit.version };
      stored.log.push(edit);
      if (key !== null) stored.byClientEditId.set(key, edit);
      if (stored.log.length > historyLimit) {
        for (const old of stored.log.splice(0, stored.log.length - historyLimit)) {
          if (old.clientEditId !== null) stored.byClientEditId.delete(clientMessageKey(old.author.id, old.clientEditId));
        }
      }
      // No await between committing and publishing: publish order is version order.
      await bus.publish(input.documentId, { kind: 'edited', edit });
      return { status: 'committed', edit };
    },
  };
}
