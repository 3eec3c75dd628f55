import { ChatError } from './errors.ts';

const SEQ_DIGITS = 12;

export function formatMessageId(roomId: string, seq: number): string {
  return `${roomId}:${String(seq).padStart(SEQ_DIGITS, '0')}`;
}

/** The sequence number of a message id of `roomId`; BAD_USER_INPUT for an id of another room or no id at all. */
export function parseMessageSeq(roomId: string, id: string): number {
  const colon = id.lastIndexOf(':');
  const seq = Number(id.slice(colon + 1));
  if (colon < 0 || id.slice(0, colon) !== roomId || !Number.isSafeInteger(seq) || seq < 0) {
    throw new ChatError('BAD_USER_INPUT', `"${id}" is not a message id of room ${roomId}`);
  }
  return seq;
}
