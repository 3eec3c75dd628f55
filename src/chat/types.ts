/** The authenticated caller, as the token described it. */
export interface Viewer {
  id: string;
  name: string;
  roles: readonly string[];
  /** Epoch milliseconds of the token's `exp`. */
  expiresAt: number;
}

export interface User {
  id: string;
  name: string;
}

export interface Room {
  id: string;
  name: string;
  private: boolean;
  /** ISO-8601 */
  createdAt: string;
  createdBy: string;
  /** Members of a private room (the creator included); empty for public rooms. */
  members: readonly string[];
}

export interface Message {
  /** `<roomId>:<seq zero-padded>` so ids sort in send order as strings and stay unique across rooms. */
  id: string;
  roomId: string;
  /** Position in the room's history, 1-based, gap-free. */
  seq: number;
  author: User;
  body: string;
  sentAt: string;
  clientMessageId: string | null;
}

export interface Presence {
  user: User;
  connections: number;
  since: string;
}

/**
 * One entry of a room's ordered stream. Message events carry the room sequence number, which is what
 * lets a listener notice a gap (missed publish) and fill it from history.
 */
export type RoomEvent =
  | { kind: 'message'; roomId: string; message: Message }
  | { kind: 'joined'; roomId: string; user: User; at: string }
  | { kind: 'left'; roomId: string; user: User; at: string }
  | { kind: 'typing'; roomId: string; user: User; typing: boolean; at: string };

/**
 * An event for one user (the `userEvents` subscription). `roomAvailable`: a public room was created, or a private
 * room listing the user; `mentioned`: a stored message names the user (see `mentions.ts`). `at` is when it
 * happened (the room's creation, the message's send time). A private room's `members` in a RoomAvailable holds its
 * creator and the recipient only (see `UserEventService.roomCreated`).
 */
export type UserEvent = { kind: 'roomAvailable'; room: Room; at: string } | { kind: 'mentioned'; message: Message; at: string };
