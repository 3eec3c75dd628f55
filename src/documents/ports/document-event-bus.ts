import type { DocumentEvent } from '../types.ts';

export interface DocumentEventListener {
  onEvent(event: DocumentEvent): void;
  /** Events may have been missed (the transport reconnected): fill the gap from the edit log by version. */
  onPossibleGap(): void;
}

/**
 * Fan-out of a document's events to every instance, one channel per document. At most once: edits carry their
 * version, so a missed one is visible and recovered from the store; the store's commit is what publishes edits.
 */
export interface DocumentEventBus {
  /** For events that are not edits (editors, cursors). Rejects with ChatError('UNAVAILABLE'). */
  publish(documentId: string, event: DocumentEvent): Promise<void>;
  /** Resolves once the subscription is confirmed; listener exceptions are caught and logged. */
  subscribe(documentId: string, listener: DocumentEventListener): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
