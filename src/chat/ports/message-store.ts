import type { Message, User } from '../types.ts';

export interface AppendMessageInput {
  roomId: string;
  author: User;
  body: string;
  sentAt: string;
  clientMessageId: string | null;
}

/**
 * What became of one append, in the order the checks run: the room exists and the author may read it (public,
 * creator or member), a retry of a stored message (same author, room and clientMessageId) is answered with it,
 * the author's MESSAGE_RATE bucket has a token; only then is the message stored.
 */
export type AppendResult =
  | { status: 'created'; message: Message }
  /** `message` is the one stored under this clientMessageId; no token spent, nothing stored or published. */
  | { status: 'duplicate'; message: Message }
  | { status: 'no-room' }
  | { status: 'forbidden' }
  | { status: 'rate-limited' };

/** Room histories: gap-free sequence numbers per room, bounded length. */
export interface MessageStore {
  /**
   * One sendMessage as one atomic step (one Redis round trip): room access, retry lookup, a token from the
   * author's MESSAGE_RATE bucket (the bucket `ChatAdapters.messageRate` takes from under the author's id), then
   * numbering, storing and publishing the message as a `message` RoomEvent on the room's bus, so every subscriber
   * sees a room's messages in history order. Anything but `created` stores, publishes and spends nothing (a
   * `rate-limited` answer found the bucket empty). Rejects with ChatError('UNAVAILABLE') when nothing could be
   * stored; it never stores without publishing or the reverse.
   */
  append(input: AppendMessageInput): Promise<AppendResult>;
  /** The newest `limit` messages with seq < `beforeSeq` (all when omitted), oldest first. */
  latest(roomId: string, limit: number, beforeSeq?: number): Promise<Message[]>;
  /** The first `limit` messages with seq > `afterSeq`, oldest first. */
  after(roomId: string, afterSeq: number, limit: number): Promise<Message[]>;
  /** The seq of the newest message, 0 for an empty room. */
  lastSeq(roomId: string): Promise<number>;
}
