import type { Logger } from '../../chat/logger.ts';
import type { DocumentEventBus } from '../../documents/ports/index.ts';
import type { DocumentEvent } from '../../documents/types.ts';
import { decodeDocumentEvent, encodeDocumentEvent } from './document-codec.ts';
import type { HardenedRedisEventTarget } from './event-target.ts';
import type { Keys } from './keys.ts';

class NotADocumentEvent extends Error {
  override readonly name = 'NotADocumentEvent';
}

/** Thrown on parse so the event target drops the payload (pitfalls §2); never reaches a listener. */
export const documentEventSerializer = {
  stringify: (detail: unknown) => encodeDocumentEvent(detail as DocumentEvent),
  parse(raw: string): DocumentEvent {
    const event = decodeDocumentEvent(raw);
    if (!event) throw new NotADocumentEvent(`not a document event: ${raw.slice(0, 80)}`);
    return event;
  },
};

/**
 * Documents over their own hardened event target: one channel per document (prefixed, pitfalls §7), the commit
 * script publishing edits on it. An event for another document can only come from a foreign publisher: dropped.
 */
export function createRedisDocumentEventBus(target: HardenedRedisEventTarget<CustomEvent>, keys: Keys, logger: Logger): DocumentEventBus {
  return {
    publish: (documentId, event) => target.publish(keys.documentChannel(documentId), event),
    subscribe(documentId, listener) {
      return target.listen(keys.documentChannel(documentId), {
        onMessage(detail) {
          const event = detail as DocumentEvent;
          const eventDocumentId = event.kind === 'edited' ? event.edit.documentId : event.documentId;
          if (eventDocumentId !== documentId) {
            logger.warn({ documentId, eventDocumentId }, 'dropped an event published on another document channel');
            return;
          }
          listener.onEvent(event);
        },
        onResubscribed: () => listener.onPossibleGap(),
      });
    },
    async close() {
      target.close();
    },
  };
}
