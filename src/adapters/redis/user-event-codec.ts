import type { Room, UserEvent } from '../../chat/types.ts';
import { decodeRoomEvent, encodeRoomEvent, isRecord, parseJson } from './codec.ts';

/**
 * The JSON of user events on their channels. A Mentioned carries its message as the room codec's message event
 * (one encoding of a message on the wire); a RoomAvailable carries the room. Decoding validates every field:
 * anyone with access to Redis can PUBLISH on a user channel.
 */

const isString = (value: unknown): value is string => typeof value === 'string';

function decodeRoom(value: unknown): Room | null {
  if (!isRecord(value)) return null;
  const { id, name, createdAt, createdBy, members } = value;
  if (!isString(id) || !isString(name) || !isString(createdAt) || !isString(createdBy) || typeof value.private !== 'boolean') return null;
  if (!Array.isArray(members) || !members.every(isString)) return null;
  return { id, name, private: value.private, createdAt, createdBy, members };
}

export function encodeUserEvent(event: UserEvent): string {
  if (event.kind === 'roomAvailable') {
    const { id, name, createdAt, createdBy, members } = event.room;
    return JSON.stringify({
      kind: event.kind,
      at: event.at,
      room: { id, name, private: event.room.private, createdAt, createdBy, members },
    });
  }
  const message = encodeRoomEvent({ kind: 'message', roomId: event.message.roomId, message: event.message });
  return `{"kind":"mentioned","at":${JSON.stringify(event.at)},"message":${message}}`;
}

/** The event, or null for anything that is not a well-formed user event (never throws). */
export function decodeUserEvent(raw: string): UserEvent | null {
  const value = parseJson(raw);
  if (!isRecord(value) || !isString(value.at)) return null;
  if (value.kind === 'roomAvailable') {
    const room = decodeRoom(value.room);
    return room && { kind: 'roomAvailable', room, at: value.at };
  }
  if (value.kind === 'mentioned') {
    const event = decodeRoomEvent(JSON.stringify(value.message));
    return event?.kind === 'message' ? { kind: 'mentioned', message: event.message, at: value.at } : null;
  }
  return null;
}
