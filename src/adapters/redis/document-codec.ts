import type { DocumentEdit, DocumentEvent, TextOp } from '../../documents/types.ts';
import { isRecord, parseJson } from './codec.ts';

/**
 * The JSON of a committed edit: the member of the edit log and the payload of the document's channel are the
 * same string, written once by the commit script. Decoding validates every field: anyone with access to Redis
 * can PUBLISH on a document channel.
 */
export function encodeEditEvent(edit: DocumentEdit): string {
  return JSON.stringify({
    kind: 'edited',
    documentId: edit.documentId,
    version: edit.version,
    operation: edit.operation,
    author: { id: edit.author.id, name: edit.author.name },
    clientEditId: edit.clientEditId,
    at: edit.at,
  });
}

const isPositive = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) > 0;

function decodeOperation(value: unknown): TextOp | null {
  if (!Array.isArray(value)) return null;
  for (const component of value) {
    if (isPositive(component) || (typeof component === 'string' && component !== '')) continue;
    if (isRecord(component) && isPositive(component.d)) continue;
    return null;
  }
  return value as TextOp;
}

/** Events published by the server itself (cursors); edits are published by the commit script. */
export function encodeDocumentEvent(event: DocumentEvent): string {
  return event.kind === 'edited' ? encodeEditEvent(event.edit) : JSON.stringify(event);
}

const isPosition = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

function decodeCursor(value: Record<string, unknown>): DocumentEvent | null {
  const { documentId, user, version, anchor, head, at } = value;
  if (typeof documentId !== 'string' || typeof at !== 'string' || !isPosition(version) || !isPosition(anchor) || !isPosition(head))
    return null;
  if (!isRecord(user) || typeof user.id !== 'string' || typeof user.name !== 'string') return null;
  return { kind: 'cursor', documentId, user: { id: user.id, name: user.name }, version, anchor, head, at };
}

export function decodeDocumentEvent(raw: string): DocumentEvent | null {
  const value = parseJson(raw);
  if (isRecord(value) && value.kind === 'cursor') return decodeCursor(value);
  if (!isRecord(value) || value.kind !== 'edited') return null;
  const { documentId, version, author, clientEditId, at } = value;
  const operation = decodeOperation(value.operation);
  if (typeof documentId !== 'string' || !isPositive(version) || !operation || typeof at !== 'string') return null;
  if (!isRecord(author) || typeof author.id !== 'string' || typeof author.name !== 'string') return null;
  if (clientEditId !== null && typeof clientEditId !== 'string') return null;
  return { kind: 'edited', edit: { documentId, version, operation, author: { id: author.id, name: author.name }, clientEditId, at } };
}

/** A log entry of `documentId`, or null for one that does not decode as an edit of that document. */
export function decodeStoredEdit(documentId: string, raw: string): DocumentEdit | null {
  const event = decodeDocumentEvent(raw);
  return event?.kind === 'edited' && event.edit.documentId === documentId ? event.edit : null;
}
