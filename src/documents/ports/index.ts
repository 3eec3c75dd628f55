export type { CommitEditInput, CommitResult, DocumentSince, DocumentStore, NewDocument } from './document-store.ts';
export type { DocumentEventBus, DocumentEventListener } from './document-event-bus.ts';

import type { RateLimiter } from '../../chat/ports/index.ts';
import type { DocumentEventBus } from './document-event-bus.ts';
import type { DocumentStore } from './document-store.ts';

/** The documents' implementations, chosen with the chat's in `adapters/index.ts`. */
export interface DocumentAdapters {
  documents: DocumentStore;
  documentBus: DocumentEventBus;
  /** editDocument and createDocument, per user: EDIT_RATE a second. */
  editRate: RateLimiter;
  /** moveCursor per user: CURSOR_RATE a second (each accepted move fans out to every subscriber). */
  cursorRate: RateLimiter;
}
