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
 * One entry of a document's ordered stream, as its channel carries it. Edits carry the version, which lets a
 * listener notice a gap and fill it from the edit log. Editor presence and cursors join this union later.
 */
export type DocumentEvent = { kind: 'edited'; edit: DocumentEdit };
