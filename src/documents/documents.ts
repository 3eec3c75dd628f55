import { randomBytes } from 'node:crypto';
import { type } from 'ot-text-unicode';
import { ChatError } from '../chat/errors.ts';
import type { RateLimiter } from '../chat/ports/index.ts';
import type { RoomService } from '../chat/rooms.ts';
import type { Room, Viewer } from '../chat/types.ts';
import { codePoints, lengthChange, parseOperation, type ParsedOperation, type TextOpFields } from './operation.ts';
import type { DocumentEventBus, DocumentStore } from './ports/index.ts';
import type { DocumentEdit, DocumentHead, DocumentState } from './types.ts';

export interface CreateDocumentInput {
  roomId: string;
  title: string;
  text?: string | null;
}

export interface EditDocumentInput {
  documentId: string;
  baseVersion: number;
  operation: readonly TextOpFields[];
  clientEditId?: string | null;
}

export interface MoveCursorInput {
  documentId: string;
  version: number;
  anchor: number;
  head: number;
}

export interface DocumentServiceOptions {
  store: DocumentStore;
  /** Where cursors are broadcast (edits are published by the store's commit). */
  bus: DocumentEventBus;
  rooms: RoomService;
  /** editDocument and createDocument per user (EDIT_RATE). */
  limiter: RateLimiter;
  /** moveCursor per user (CURSOR_RATE). */
  cursorLimiter: RateLimiter;
  /** Code points a document may hold (DOC_MAX_CHARS). @default 1_000_000 */
  maxChars?: number;
  /** @default 200 */
  maxTitleLength?: number;
  /**
   * Commit attempts of one edit that keeps losing the compare-and-set to concurrent edits before it answers
   * UNAVAILABLE (nothing committed; a retry with the same clientEditId is safe). Each lost race means another
   * edit of the document was committed, so this bounds only the wait of an edit in a very busy document.
   * @default 50
   */
  maxCommitAttempts?: number;
}

const sleep = async (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createDocumentService({
  store,
  bus,
  rooms,
  limiter,
  cursorLimiter,
  maxChars = 1_000_000,
  maxTitleLength = 200,
  maxCommitAttempts = 50,
}: DocumentServiceOptions) {
  // Edits of one document on this instance commit one after another. Racing each other for the compare-and-set
  // only burns attempts: 50 editors of one document lost enough races to be answered UNAVAILABLE (bench
  // `documents`). Across instances the compare-and-set still decides. One entry per document with a commit under
  // way, removed when its last one ends.
  const commitTurns = new Map<string, Promise<unknown>>();
  async function inTurn<T>(documentId: string, run: () => Promise<T>): Promise<T> {
    const turn = (commitTurns.get(documentId) ?? Promise.resolve()).then(run, run);
    const settled = turn.then(
      () => undefined,
      () => undefined,
    );
    commitTurns.set(documentId, settled);
    void settled.then(() => {
      if (commitTurns.get(documentId) === settled) commitTurns.delete(documentId);
    });
    return turn;
  }

  /** Cheap first: a text within `maxChars` UTF-16 units is within it in code points. */
  const tooLong = (text: string) => text.length > maxChars && codePoints(text) > maxChars;

  /** FORBIDDEN when the document's room is private without the viewer; false when that room is gone. */
  const readable = async (viewer: Viewer, document: DocumentHead): Promise<boolean> => (await rooms.find(viewer, document.roomId)) !== null;

  /** The document's head if the viewer may read it: NOT_FOUND or FORBIDDEN otherwise. */
  async function require(viewer: Viewer, id: string): Promise<DocumentHead> {
    const head = await store.head(id);
    if (!head || !(await readable(viewer, head))) throw new ChatError('NOT_FOUND', `document ${id} does not exist`);
    return head;
  }

  /**
   * Transforms `op` (against the text at `baseVersion`) over every edit committed since, then commits it at the
   * head with a compare-and-set; a lost race re-reads from the head it lost to and goes on transforming.
   */
  async function commit(
    viewer: Viewer,
    documentId: string,
    baseVersion: number,
    submitted: ParsedOperation,
    clientEditId: string | null,
  ): Promise<DocumentEdit> {
    let op = submitted.op;
    let version = baseVersion;
    let checkedInput = false;
    for (let attempt = 0; attempt < maxCommitAttempts; attempt++) {
      if (attempt > 0) await sleep(Math.random() * Math.min(2 ** attempt, 50));
      const since = await store.readSince(documentId, version);
      if (!since) throw new ChatError('NOT_FOUND', `document ${documentId} does not exist`);
      const { document, edits } = since;
      if (version > document.version)
        throw new ChatError('BAD_USER_INPUT', `baseVersion ${version} is above the current version ${document.version}`);
      if (edits === null)
        throw new ChatError('VERSION_TOO_OLD', `baseVersion ${version} is older than the kept history; reload the document`);
      if (!checkedInput) {
        // The op reads the text at baseVersion: its length is the head's minus what the edits since changed.
        const baseLength = codePoints(document.text) - edits.reduce((sum, edit) => sum + lengthChange(edit.operation), 0);
        if (submitted.reads > baseLength)
          throw new ChatError('BAD_USER_INPUT', `operation: retains or deletes past the end of the text (${baseLength} characters)`);
        checkedInput = true;
      }
      // 'right': an edit committed earlier stays left of a concurrent insert at the same place (contract).
      for (const edit of edits) op = type.transform(op, edit.operation, 'right');
      const text = op.length === 0 ? document.text : type.apply(document.text, op);
      if (tooLong(text)) throw new ChatError('BAD_USER_INPUT', `the text would be longer than ${maxChars} characters`);
      const result = await store.commit({
        documentId,
        expectedVersion: document.version,
        operation: op,
        text,
        author: { id: viewer.id, name: viewer.name },
        clientEditId,
        at: new Date().toISOString(),
      });
      if (result.status !== 'conflict') return result.edit;
      version = document.version;
    }
    throw new ChatError('UNAVAILABLE', 'too many concurrent edits of this document; retry with the same clientEditId');
  }

  return {
    /** null for an unknown document; FORBIDDEN when its room is private without the viewer. */
    async find(viewer: Viewer, id: string): Promise<DocumentState | null> {
      const document = await store.get(id);
      return document && (await readable(viewer, document)) ? document : null;
    },

    /** The head (no text) of a document the viewer may read: NOT_FOUND or FORBIDDEN otherwise. For documentEvents. */
    require,

    /** The room's documents; the caller has checked the viewer may read the room. */
    listForRoom: async (room: Room): Promise<DocumentState[]> => store.listByRoom(room.id),

    async create(viewer: Viewer, input: CreateDocumentInput): Promise<DocumentState> {
      const title = input.title.trim();
      if (!title || codePoints(title) > maxTitleLength)
        throw new ChatError('BAD_USER_INPUT', `title must be 1..${maxTitleLength} characters`);
      const text = input.text ?? '';
      if (tooLong(text)) throw new ChatError('BAD_USER_INPUT', `text must be at most ${maxChars} characters`);
      const room = await rooms.require(viewer, input.roomId);
      if (!(await limiter.take(viewer.id))) throw new ChatError('RATE_LIMITED', 'too many edits; slow down');
      const document: DocumentState = {
        id: `d_${randomBytes(9).toString('base64url')}`,
        roomId: room.id,
        title,
        createdAt: new Date().toISOString(),
        createdBy: viewer.id,
        text,
        version: 0,
      };
      await store.create(document);
      return document;
    },

    async edit(viewer: Viewer, input: EditDocumentInput): Promise<DocumentEdit> {
      const clientEditId = input.clientEditId ?? null;
      if (clientEditId !== null && (clientEditId.length === 0 || clientEditId.length > 128)) {
        throw new ChatError('BAD_USER_INPUT', 'clientEditId must be 1..128 characters');
      }
      const op = parseOperation(input.operation);
      if (!Number.isSafeInteger(input.baseVersion) || input.baseVersion < 0)
        throw new ChatError('BAD_USER_INPUT', 'baseVersion must be >= 0');
      await require(viewer, input.documentId);
      // A retry is answered before rate limiting and before any check against the (moved) head.
      if (clientEditId !== null) {
        const stored = await store.findByClientEditId(input.documentId, viewer.id, clientEditId);
        if (stored) return stored;
      }
      if (!(await limiter.take(viewer.id))) throw new ChatError('RATE_LIMITED', 'too many edits; slow down');
      return inTurn(input.documentId, async () => commit(viewer, input.documentId, input.baseVersion, op, clientEditId));
    },

    /**
     * Broadcasts CursorMoved on the document's channel: not stored, not replayed, and dropped for a slow reader
     * like typing; each subscriber's stream skips its own user's cursors.
     */
    async moveCursor(viewer: Viewer, input: MoveCursorInput): Promise<boolean> {
      const document = await require(viewer, input.documentId);
      for (const value of [input.version, input.anchor, input.head]) {
        if (!Number.isSafeInteger(value) || value < 0) throw new ChatError('BAD_USER_INPUT', 'version, anchor and head must be >= 0');
      }
      if (input.version > document.version)
        throw new ChatError('BAD_USER_INPUT', `version ${input.version} is above the current version ${document.version}`);
      if (!(await cursorLimiter.take(viewer.id))) throw new ChatError('RATE_LIMITED', 'too many cursor moves; slow down');
      const { documentId, version, anchor, head } = input;
      await bus.publish(documentId, {
        kind: 'cursor',
        documentId,
        user: { id: viewer.id, name: viewer.name },
        version,
        anchor,
        head,
        at: new Date().toISOString(),
      });
      return true;
    },
  };
}

export type DocumentService = ReturnType<typeof createDocumentService>;
