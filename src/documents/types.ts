import type { TextOp } from 'ot-text-unicode';
import type { User } from '../chat/types.ts';

export type { TextOp, TextOpComponent } from 'ot-text-unicode';

/** A collaborative plain-text document, attached to a room whose access rules it follows. */
export interface DocumentMeta {
  id: string;
  roomId: string;
  title: string;
  /** ISO-8601 */
  createdAt: string;
  createdBy: string;
}

/** Where a document stands, without its text: for access checks and version bounds. */
export interface DocumentHead extends DocumentMeta {
  /** Edits committed so far (0: as created). */
  version: number;
}

/** A document at its head: `text` is the text after edit number `version`. */
export interface DocumentState extends DocumentHead {
  text: string;
}

/** One committed edit: the operation in its committed (transformed) form, applying to the text at version - 1. */
export interface DocumentEdit {
  documentId: string;
  /** Position in the document's edit log: 1-based, consecutive, the sequence number of its stream. */
  version: number;
  /** Normalised ot-text-unicode op; empty when the transform turned the edit into a no-op. */
  operation: TextOp;
  author: User;
  clientEditId: string | null;
  /** ISO-8601 */
  at: string;
}

/**
 * One entry of a document's stream, as its subscribers get it. Edits carry the version, which lets a listener
 * notice a gap and fill it from the edit log; editors and cursors are not logged (cursors may be dropped for a
 * slow reader, like typing). A cursor goes to every subscription of the document but the mover's own: each
 * subscriber's stream skips cursors of its own user.
 */
export type DocumentEvent =
  | { kind: 'edited'; edit: DocumentEdit }
  | { kind: 'editorJoined'; documentId: string; user: User; at: string }
  | { kind: 'editorLeft'; documentId: string; user: User; at: string }
  | { kind: 'cursor'; documentId: string; user: User; version: number; anchor: number; head: number; at: string };
