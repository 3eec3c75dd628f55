import { formatMessageId } from '../../chat/message-id.ts';
import type { MessageStore, RoomEventBus } from '../../chat/ports/index.ts';
import type { Message } from '../../chat/types.ts';
import { clientMessageKey } from '../client-message-key.ts';

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

export function createMemoryMessageStore(bus: RoomEventBus, historyLimit: number): MessageStore {
  const logs = new Map<string, RoomLog>();
  const logOf = (roomId: string): RoomLog => {
    let log = logs.get(roomId);
    if (!log) logs.set(roomId, (log = { messages: [], lastSeq: 0, byClientId: new Map() }));
    return log;
  };

  return {
    async append({ roomId, author, body, sentAt, clientMessageId }) {
      const log = logOf(roomId);
      const idempotencyKey = clientMessageId === null ? null : clientMessageKey(author.id, clientMessageId);
      const stored = idempotencyKey === null ? undefined : log.byClientId.get(idempotencyKey);
      if (stored) return { message: stored, created: false };

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
      // No await between numbering and publishing: that is what keeps publish order equal to seq order here.
      await bus.publish({ kind: 'message', roomId, message });
      return { message, created: true };
    },
    async findByClientId(roomId, authorId, clientMessageId) {
      return logs.get(roomId)?.byClientId.get(clientMessageKey(authorId, clientMessageId)) ?? null;
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
