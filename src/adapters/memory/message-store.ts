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
  /**
   * Oldest first from `head`: the entries before it are trimmed. Advancing `head` and compacting once it passes
   * half the array makes a trim O(1) amortized; splicing the front off a full history moved every entry (10,000
   * by default) on every message.
   */
  messages: Array<Message | undefined>;
  head: number;
  lastSeq: number;
  byClientId: Map<string, Message>;
}

/** Binary search from `head`: index of the first message with seq > `seq`. */
function indexAfter({ messages, head }: RoomLog, seq: number): number {
  let low = head;
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
    if (!log) logs.set(roomId, (log = { messages: [], head: 0, lastSeq: 0, byClientId: new Map() }));
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
      while (log.messages.length - log.head > historyLimit) {
        const old = log.messages[log.head] as Message;
        log.messages[log.head] = undefined;
        log.head += 1;
        if (old.clientMessageId !== null) log.byClientId.delete(clientMessageKey(old.author.id, old.clientMessageId));
      }
      if (log.head > 64 && log.head * 2 > log.messages.length) {
        log.messages.splice(0, log.head);
        log.head = 0;
      }
      await bus.publish({ kind: 'message', roomId, message });
      return { status: 'created', message };
    },
    async latest(roomId, limit, beforeSeq) {
      const log = logs.get(roomId);
      if (!log) return [];
      const end = beforeSeq === undefined ? log.messages.length : indexAfter(log, beforeSeq - 1);
      return log.messages.slice(Math.max(log.head, end - limit), end) as Message[];
    },
    async after(roomId, afterSeq, limit) {
      const log = logs.get(roomId);
      if (!log) return [];
      const start = indexAfter(log, afterSeq);
      return log.messages.slice(start, start + limit) as Message[];
    },
    async lastSeq(roomId) {
      return logs.get(roomId)?.lastSeq ?? 0;
    },
  };
}
