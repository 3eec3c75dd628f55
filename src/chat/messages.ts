import { NO_ROOM_ACTIVITY, type ChatCounters, type RoomActivityObserver } from './counters.ts';
import { ChatError } from './errors.ts';
import { parseMessageSeq } from './message-id.ts';
import type { MessageStore } from './ports/index.ts';
import type { TypingService } from './typing.ts';
import type { Message, Room, Viewer } from './types.ts';

export interface SendMessageInput {
  roomId: string;
  body: string;
  clientMessageId?: string | null;
}

export interface MessageServiceOptions {
  /** Checks access, answers retries and spends MESSAGE_RATE in the same step as it stores (`append`). */
  store: MessageStore;
  typing: TypingService;
  counters: ChatCounters;
  /** Told of each new message, per room (the dashboard's busiest rooms). @default no-op */
  activity?: RoomActivityObserver;
  /** Max characters after trim. @default 4_000 */
  maxBodyLength?: number;
  /** Largest `last` a history page may ask for. @default 500 */
  maxPage?: number;
  /** Told of each newly stored message, not of a retry's stored copy (userEvents' Mentioned); must not throw. */
  onStored?: (roomId: string, message: Message) => void;
}

export function createMessageService({
  store,
  typing,
  counters,
  activity = NO_ROOM_ACTIVITY,
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
      // Access, retry, rate and store in one step of the store (one Redis round trip), in that order: a client
      // resending after a lost reply gets its message back even at the rate limit, and spends no token.
      const result = await store.append({
        roomId: input.roomId,
        author: { id: viewer.id, name: viewer.name },
        body,
        sentAt: new Date().toISOString(),
        clientMessageId,
      });
      switch (result.status) {
        case 'created':
          counters.messagesIn += 1;
          activity.messageAccepted(input.roomId);
          onStored?.(input.roomId, result.message);
          typing.stopAfterMessage(input.roomId, viewer);
          return result.message;
        case 'duplicate':
          return result.message;
        case 'no-room':
          throw new ChatError('NOT_FOUND', `room ${input.roomId} does not exist`);
        case 'forbidden':
          throw new ChatError('FORBIDDEN', 'this room is private');
        case 'rate-limited':
          throw new ChatError('RATE_LIMITED', 'too many messages; slow down');
      }
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
