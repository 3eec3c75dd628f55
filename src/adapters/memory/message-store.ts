import { formatMessageId } from '../../chat/message-id.ts';
import type { MessageStore, RoomEventBus, RoomStore } from '../../chat/ports/index.ts';
import { canRead } from '../../chat/rooms.ts';
import type { Message } from '../../chat/types.ts';
import { clientMessageKey } from '../client-message-key.ts';
import type { MemoryRateLimiter } from './rate-limiter.ts';

export interface MemoryMessageStoreOptions {
  bus: RoomEventBus;
  /** Read for the access check of each append. */
  rooms: RoomStore;
  /** MESSAGE_RATE: the same buckets as `ChatAdapters.messageRate`. */
  limiter: Pick<MemoryRateLimiter, 'takeNow'>;
  historyLimit: number;
}

interface RoomLog {
  /** Oldest first; trimmed from the front past the history limit. */
  messages: Message[];
  lastSeq: number;
  byClientId: Map<string, Message>;
}

/** Binary search: index of the first message with seq > `seq`. */
function indexAfter(messages: readonly Message[], seq: number): number {
  let low = 0;
  let high = messages.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((messages[mid] as Message).seq <= seq) low = mid + 1;
    else high = mid;
  }
  return low;
}

export function createMemoryMessageStore({ bus, rooms, limiter, historyLimit }: MemoryMessageStoreOptions): MessageStore {
  const logs = new Map<string, RoomLog>();
  const logOf = (roomId: string): RoomLog => {
    let log = logs.get(roomId);
    if (!log) logs.set(roomId, (log = { messages: [], lastSeq: 0, byClientId: new Map() }));
    return log;
  };

  return {
    async append({ roomId, author, body, sentAt, clientMessageId }) {
      // The one await before the message is numbered: from the retry lookup to the publish below, nothing
      // yields, so two racing retries cannot both store and numbering order is publish order.
      const room = await rooms.get(roomId);
      if (!room) return { status: 'no-room' };
      if (!canRead(room, author.id)) return { status: 'forbidden' };
      const log = logOf(roomId);
      const idempotencyKey = clientMessageId === null ? null : clientMessageKey(author.id, clientMessageId);
      const stored = idempotencyKey === null ? undefined : log.byClientId.get(idempotencyKey);
      if (stored) return { status: 'duplicate', message: stored };
      if (!limiter.takeNow(author.id)) return { status: 'rate-limited' };

      const seq = log.lastSeq + 1;
      const message: Message = { id: formatMessageId(roomId, seq), roomId, seq, author, body, sentAt, clientMessageId };
      log.lastSeq = seq;
      log.messages.push(message);
      if (idempotencyKey !== null) log.byClientId.set(idempotencyKey, message);
      if (log.messages.length > historyLimit) {
        const dropped = log.messages.splice(0, log.messages.length - historyLimit);
        for (const old of dropped) {
          if (old.clientMessageId !== null) log.byClientId.delete(clientMessageKey(old.author.id, old.clientMessageId));
        }
      }
      await bus.publish({ kind: 'message', roomId, message });
      return { status: 'created', message };
    },
    async latest(roomId, limit, beforeSeq) {
      const messages = logs.get(roomId)?.messages ?? [];
      const end = beforeSeq === undefined ? messages.length : indexAfter(messages, beforeSeq - 1);
      return messages.slice(Math.max(0, end - limit), end);
    },
    async after(roomId, afterSeq, limit) {
      const messages = logs.get(roomId)?.messages ?? [];
      const start = indexAfter(messages, afterSeq);
      return messages.slice(start, start + limit);
    },
    async lastSeq(roomId) {
      return logs.get(roomId)?.lastSeq ?? 0;
    },
  };
}
