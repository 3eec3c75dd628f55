import type { Logger } from '../chat/logger.ts';
import type { RoomEventBus } from '../chat/ports/index.ts';
import type { PresenceService } from '../chat/presence.ts';
import type { Presence } from '../chat/types.ts';
import { createDocumentEventService, editorsTopic } from './document-events.ts';
import { createDocumentService } from './documents.ts';
import type { DocumentAdapters } from './ports/index.ts';

export interface DocumentsOptions {
  /** The document ports, and the room bus on which presence announces editors. */
  adapters: DocumentAdapters & { bus: RoomEventBus };
  rooms: Parameters<typeof createDocumentService>[0]['rooms'];
  presence: PresenceService;
  logger: Logger;
  /** DOC_MAX_CHARS. @default 1_000_000 */
  maxChars?: number;
  /** MAX_REPLAYS_PER_USER, as for rooms. @default 4 */
  maxReplaysPerUser?: number;
}

/** The documents domain, wired over its adapters and the chat's rooms (access follows the room) and presence. */
export function createDocuments({ adapters, rooms, presence, logger, maxChars, maxReplaysPerUser }: DocumentsOptions) {
  const service = createDocumentService({
    store: adapters.documents,
    bus: adapters.documentBus,
    rooms,
    limiter: adapters.editRate,
    cursorLimiter: adapters.cursorRate,
    ...(maxChars ? { maxChars } : {}),
  });
  const events = createDocumentEventService({
    documents: service,
    store: adapters.documents,
    bus: adapters.documentBus,
    roomBus: adapters.bus,
    presence,
    logger,
    ...(maxReplaysPerUser ? { maxReplaysPerUser } : {}),
  });
  return {
    ...service,
    events,
    /** Who has documentEvents open on the document, across all instances. */
    editors: async (documentId: string): Promise<Presence[]> => presence.online(editorsTopic(documentId)),
  };
}

export type Documents = ReturnType<typeof createDocuments>;
export type * from './types.ts';
