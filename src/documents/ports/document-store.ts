import type { User } from '../../chat/types.ts';
import type { DocumentEdit, DocumentHead, DocumentMeta, DocumentState, TextOp } from '../types.ts';

export interface NewDocument extends DocumentMeta {
  text: string;
}

export interface CommitEditInput {
  documentId: string;
  /**
   * The head version the caller transformed the operation up to. The edit is committed as `expectedVersion + 1`
   * only if that is still the head (compare-and-set); otherwise nothing is written and the result is `conflict`.
   */
  expectedVersion: number;
  /** Normalised, transformed to `expectedVersion`; may be empty (a no-op after transform is still committed). */
  operation: TextOp;
  /** The text after applying `operation` to the text at `expectedVersion`, stored as the new head. */
  text: string;
  author: User;
  clientEditId: string | null;
  at: string;
}

export type CommitResult =
  /** Committed as `edit.version` and published on the document's stream by the same atomic step. */
  | { status: 'committed'; edit: DocumentEdit }
  /** `clientEditId` was already committed by this author on this document: `edit` is that one, nothing applied. */
  | { status: 'duplicate'; edit: DocumentEdit }
  /** Another edit became version `expectedVersion + 1` first: nothing written; re-read, re-transform, retry. */
  | { status: 'conflict'; headVersion: number };

export interface DocumentSince {
  document: DocumentState;
  /** Every edit after the asked version, oldest first; null when the log no longer reaches back that far. */
  edits: DocumentEdit[] | null;
}

/**
 * Documents and their edit logs: one commit sequence per document, cluster-wide. The log keeps the newest
 * `historyLimit` edits (DOC_HISTORY_LIMIT), and always at least the newest one.
 */
export interface DocumentStore {
  /** Stores a new document at version 0; ids are unique. */
  create(document: NewDocument): Promise<void>;
  get(id: string): Promise<DocumentState | null>;
  /** `get` without the text (which may be DOC_MAX_CHARS long): what access checks and version bounds need. */
  head(id: string): Promise<DocumentHead | null>;
  /** The room's documents in creation order. */
  listByRoom(roomId: string): Promise<DocumentState[]>;
  /** The head and the edits after `afterVersion`, read in one atomic step (consistent with each other). */
  readSince(id: string, afterVersion: number): Promise<DocumentSince | null>;
  /**
   * At most `limit` edits after `afterVersion`, oldest first, for replay and gap fill; null when the log no
   * longer holds edit `afterVersion + 1` (VERSION_TOO_OLD for the subscriber).
   */
  editsAfter(id: string, afterVersion: number, limit: number): Promise<DocumentEdit[] | null>;
  /** The committed edit of `authorId` with this `clientEditId`, while the log still holds it. */
  findByClientEditId(id: string, authorId: string, clientEditId: string): Promise<DocumentEdit | null>;
  /**
   * In one atomic step: checks the head is `expectedVersion`, appends the edit to the log, stores the new text,
   * trims the log, and publishes the edit on the document's stream (DocumentEventBus), so publish order is
   * version order on every instance. Rejects with ChatError('UNAVAILABLE') only when nothing was committed;
   * an edit whose reply was lost is settled (found committed, or known not to be) before answering.
   */
  commit(input: CommitEditInput): Promise<CommitResult>;
}
