import { formatMessageId } from '../../chat/message-id.ts';
import type { AppendMessageInput } from '../../chat/ports/index.ts';
import type { Message, RoomEvent, User } from '../../chat/types.ts';

/**
 * The JSON of room events on the wire and in history. A message carries its `seq` but not its `id`: the seq is
 * assigned inside the append script, which splices it between the two halves of `encodeMessageTemplate`,
 * and the id is derived from it with `formatMessageId` when decoding, so Lua never formats ids.
 * Decoding validates every field because anyone with access to Redis can PUBLISH on a room channel.
 */

type Json = Record<string, unknown>;

export const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The parsed JSON, or undefined for text that is not JSON (never throws: the text may come from anyone). */
export function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}
const isString = (value: unknown): value is string => typeof value === 'string';

function decodeUser(value: unknown): User | null {
  if (!isRecord(value) || !isString(value.id) || !isString(value.name)) return null;
  return { id: value.id, name: value.name };
}

const userJson = (user: User) => JSON.stringify({ id: user.id, name: user.name });

/** `head + seq + tail` is the encoded `message` event of that seq. */
export function encodeMessageTemplate(input: AppendMessageInput): { head: string; tail: string } {
  return {
    head: `{"kind":"message","roomId":${JSON.stringify(input.roomId)},"message":{"seq":`,
    tail:
      `,"author":${userJson(input.author)},"body":${JSON.stringify(input.body)},` +
      `"sentAt":${JSON.stringify(input.sentAt)},"clientMessageId":${JSON.stringify(input.clientMessageId)}}}`,
  };
}

export function encodeRoomEvent(event: RoomEvent): string {
  if (event.kind === 'message') {
    const { head, tail } = encodeMessageTemplate({ ...event.message, roomId: event.roomId });
    return `${head}${event.message.seq}${tail}`;
  }
  return JSON.stringify(event);
}

function decodeMessage(roomId: string, value: unknown): Message | null {
  if (!isRecord(value)) return null;
  const { seq, body, sentAt, clientMessageId } = value;
  const author = decodeUser(value.author);
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return null;
  if (!author || !isString(body) || !isString(sentAt)) return null;
  if (clientMessageId !== null && !isString(clientMessageId)) return null;
  return { id: formatMessageId(roomId, seq), roomId, seq, author, body, sentAt, clientMessageId };
}

/** The event, or null for anything that is not a well-formed room event (never throws). */
export function decodeRoomEvent(raw: string): RoomEvent | null {
  const value = parseJson(raw);
  if (!isRecord(value) || !isString(value.roomId)) return null;
  const { roomId } = value;
  switch (value.kind) {
    case 'message': {
      const message = decodeMessage(roomId, value.message);
      return message && { kind: 'message', roomId, message };
    }
    case 'joined':
    case 'left': {
      const user = decodeUser(value.user);
      return user && isString(value.at) ? { kind: value.kind, roomId, user, at: value.at } : null;
    }
    case 'typing': {
      const user = decodeUser(value.user);
      if (!user || !isString(value.at) || typeof value.typing !== 'boolean') return null;
      return { kind: 'typing', roomId, user, typing: value.typing, at: value.at };
    }
    default:
      return null;
  }
}

/** A stored history entry: the encoded message event the append script wrote. */
export function decodeStoredMessage(roomId: string, raw: string): Message | null {
  const event = decodeRoomEvent(raw);
  return event?.kind === 'message' && event.roomId === roomId ? event.message : null;
}

export function encodePresenceUser(user: User, since: string): string {
  return JSON.stringify({ id: user.id, name: user.name, since });
}

export function decodePresenceUser(raw: string): { user: User; since: string } | null {
  const value = parseJson(raw);
  const user = decodeUser(value);
  return user && isRecord(value) && isString(value.since) ? { user, since: value.since } : null;
}
