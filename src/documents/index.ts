import type { RoomService } from '../chat/rooms.ts';
import { createDocumentService } from './documents.ts';
import type { DocumentAdapters } from './ports/index.ts';

export interface DocumentsOptions {
  adapters: DocumentAdapters;
  rooms: RoomService;
  /** DOC_MAX_CHARS. @default 1_000_000 */
  maxChars?: number;
}

/** The documents domain, wired over its adapters and the chat's rooms (access follows the room). */
export function createDocuments({ adapters, rooms, maxChars }: DocumentsOptions) {
  return createDocumentService({ store: adapters.documents, rooms, limiter: adapters.editRate, ...(maxChars ? { maxChars } : {}) });
}

export type Documents = ReturnType<typeof createDocuments>;
export type * from './types.ts';
