import type { Message, User } from '../types.ts';

export interface AppendMessageInput {
  roomId: string;
  author: User;
  body: string;
  sentAt: string;
  clientMessageId: string | null;
}

export interface AppendResult {
  message: Message;
  /** false when `clientMessageId` was already used by this author in this room: `message` is the stored one. */
  created: boolean;
}

/** Room histories: gap-free sequence numbers per room, bounded length. */
export interface MessageStore {
  /**
   * Numbers, stores and publishes the message as a `message` RoomEvent on the room's bus in one atomic step,
   * so that every subscriber sees a room's messages in history order. A duplicate (same author, room and
   * clientMessageId) stores and publishes nothing. Rejects with ChatError('UNAVAILABLE') when nothing could be
   * stored; it never stores without publishing or the reverse.
   */
  append(input: AppendMessageInput): Promise<AppendResult>;
  /**
   * The stored message that `authorId` sent to `roomId` with this `clientMessageId`, if history still holds it.
   * Lets a retry be answered before rate limiting; `append` stays the atomic guard against duplicates.
   */
  findByClientId(roomId: string, authorId: string, clientMessageId: string): Promise<Message | null>;
  /** The newest `limit` messages with seq < `beforeSeq` (all when omitted), oldest first. */
  latest(roomId: string, limit: number, beforeSeq?: number): Promise<Message[]>;
  /** The first `limit` messages with seq > `afterSeq`, oldest first. */
  after(roomId: string, afterSeq: number, limit: number): Promise<Message[]>;
  /** The seq of the newest message, 0 for an empty room. */
  lastSeq(roomId: string): Promise<number>;
}
