import type { ChatCounters } from './counters.ts';
import { ChatError } from './errors.ts';
import { parseMessageSeq } from './message-id.ts';
import type { MessageStore, RateLimiter } from './ports/index.ts';
import type { RoomService } from './rooms.ts';
import type { TypingService } from './typing.ts';
import type { Message, Room, Viewer } from './types.ts';

export interface SendMessageInput {
  roomId: string;
  body: string;
  clientMessageId?: string | null;
}

export interface MessageServiceOptions {
  store: MessageStore;
  rooms: RoomService;
  typing: TypingService;
  limiter: RateLimiter;
  counters: ChatCounters;
  /** Max characters after trim. @default 4_000 */
  maxBodyLength?: number;
  /** Largest `last` a history page may ask for. @default 500 */
  maxPage?: number;
  /** Told of each newly stored message, not of a retry's stored copy (userEvents' Mentioned); must not throw. */
  onStored?: (room: Room, message: Message) => void;
}

export function createMessageService({
  store,
  rooms,
  typing,
  limiter,
  counters,
  maxBodyLength = 4_000,
  maxPage = 500,
  onStored,
}: MessageServiceOptions) {
  return {
    async send(viewer: Viewer, input: SendMessageInput): Promise<Message> {
      const body = input.body.trim();
      if (!body || body.length > maxBodyLength) {
        throw new ChatError('BAD_USER_INPUT', `body must be 1..${maxBodyLength} characters after trim`);
      }
      const clientMessageId = input.clientMessageId ?? null;
      if (clientMessageId !== null && (clientMessageId.length === 0 || clientMessageId.length > 128)) {
        throw new ChatError('BAD_USER_INPUT', 'clientMessageId must be 1..128 characters');
      }
      const room = await rooms.require(viewer, input.roomId);
      // A retry is answered before rate limiting: a client resending after a lost reply must get its message back.
      if (clientMessageId !== null) {
        const stored = await store.findByClientId(input.roomId, viewer.id, clientMessageId);
        if (stored) return stored;
      }
      if (!(await limiter.take(viewer.id))) {
        throw new ChatError('RATE_LIMITED', 'too many messages; slow down');
      }
      const { message, created } = await store.append({
        roomId: input.roomId,
        author: { id: viewer.id, name: viewer.name },
        body,
        sentAt: new Date().toISOString(),
        clientMessageId,
      });
      if (created) {
        counters.messagesIn += 1;
        onStored?.(room, message);
      }
      typing.stopAfterMessage(input.roomId, viewer);
      return message;
    },

    /** The newest `last` messages (older than `before` when given), oldest first. */
    async history(room: Room, last: number, before?: string | null): Promise<Message[]> {
      if (!Number.isInteger(last) || last < 0 || last > maxPage) {
        throw new ChatError('BAD_USER_INPUT', `last must be 0..${maxPage}`);
      }
      if (last === 0) return Promise.resolve([]);
      const beforeSeq = before ? parseMessageSeq(room.id, before) : undefined;
      return store.latest(room.id, last, beforeSeq);
    },
  };
}

export type MessageService = ReturnType<typeof createMessageService>;
