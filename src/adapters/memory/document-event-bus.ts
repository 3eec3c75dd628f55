import type { Logger } from '../../chat/logger.ts';
import type { DocumentEventBus, DocumentEventListener } from '../../documents/ports/index.ts';

/** In-process fan-out: synchronous, so it can never miss or reorder an event. */
export function createMemoryDocumentEventBus(logger: Logger): DocumentEventBus {
  const listeners = new Map<string, Set<DocumentEventListener>>();
  return {
    async publish(documentId, event) {
      for (const listener of listeners.get(documentId) ?? []) {
        try {
          listener.onEvent(event);
        } catch (error) {
          logger.error({ documentId, err: error }, 'document event listener threw');
        }
      }
    },
    async subscribe(documentId, listener) {
      let set = listeners.get(documentId);
      if (!set) listeners.set(documentId, (set = new Set()));
      set.add(listener);
      return async () => {
        set.delete(listener);
        if (set.size === 0 && listeners.get(documentId) === set) listeners.delete(documentId);
      };
    },
    async close() {
      listeners.clear();
    },
  };
}
