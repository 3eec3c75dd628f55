import type { Redis } from 'ioredis';
import { ChatError } from '../../chat/errors.ts';
import type { Logger } from '../../chat/logger.ts';
import type { MessageStore } from '../../chat/ports/index.ts';
import type { Message } from '../../chat/types.ts';
import { decodeStoredMessage, encodeMessageTemplate } from './codec.ts';
import type { RedisClock } from './connections.ts';
import { orUnavailable } from './errors.ts';
import type { Keys } from './keys.ts';
import { loadLuaScript } from './scripts.ts';

export interface RedisMessageStoreOptions {
  client: Redis;
  keys: Keys;
  logger: Logger;
  historyLimit: number;
  clock: RedisClock;
  /**
   * The command client's timeout. The append script refuses to run once half of it has passed in Redis's clock,
   * so an append that a frozen Redis executes after we answered UNAVAILABLE stores nothing.
   */
  commandTimeoutMs: number;
}

export function createRedisMessageStore(options: RedisMessageStoreOptions): MessageStore {
  const { client, keys, logger, historyLimit, clock, commandTimeoutMs } = options;
  const append = loadLuaScript(client, 'append-message');

  const decodeAll = (roomId: string, raws: readonly string[]): Message[] => {
    const messages: Message[] = [];
    for (const raw of raws) {
      const message = decodeStoredMessage(roomId, raw);
      if (message) messages.push(message);
      else logger.error({ roomId, bytes: raw.length }, 'skipped an undecodable history entry');
    }
    return messages;
  };

  return {
    async append(input) {
      const { roomId, author, clientMessageId } = input;
      const { head, tail } = encodeMessageTemplate(input);
      // NUL cannot occur in a user id from a JWT `sub`, so author and clientMessageId never run together.
      const field = clientMessageId === null ? '' : `${author.id}\u0000${clientMessageId}`;
      const deadline = Math.floor(clock.now() + commandTimeoutMs / 2);
      const reply = await orUnavailable('append', () =>
        append.run(
          [keys.seq(roomId), keys.messages(roomId), keys.idempotency(roomId), keys.idempotencyBySeq(roomId)],
          [keys.roomChannel(roomId), field, head, tail, historyLimit, deadline],
          // The script refuses to run after `deadline`; waiting for its reply well past that means a Redis that
          // ran it and then froze (SIGSTOP, a stalled fsync) before replying yields the stored message on resume,
          // not an UNAVAILABLE for a message that is in fact stored and delivered.
          { replyTimeoutMs: commandTimeoutMs * 3 },
        ),
      );
      if (!Array.isArray(reply)) throw new Error(`append script returned ${typeof reply}`);
      const [code, raw] = reply as [number, string | undefined];
      if (code === -1) throw new ChatError('UNAVAILABLE', 'append: Redis answered too late; nothing stored');
      const message = raw === undefined ? null : decodeStoredMessage(roomId, raw);
      if (!message) throw new Error('append script returned an undecodable message');
      return { message, created: code === 1 };
    },

    async findByClientId(roomId, authorId, clientMessageId) {
      const seq = await orUnavailable('findByClientId', () =>
        client.hget(keys.idempotency(roomId), `${authorId}\u0000${clientMessageId}`),
      );
      if (seq === null) return null;
      const raws = await orUnavailable('findByClientId', () =>
        client.zrangebyscore(keys.messages(roomId), seq, seq),
      );
      return decodeAll(roomId, raws)[0] ?? null;
    },

    async latest(roomId, limit, beforeSeq) {
      if (limit <= 0) return [];
      const max = beforeSeq === undefined ? '+inf' : `(${beforeSeq}`;
      const raws = await orUnavailable('latest', () =>
        client.zrevrangebyscore(keys.messages(roomId), max, '-inf', 'LIMIT', 0, limit),
      );
      return decodeAll(roomId, raws.reverse());
    },

    async after(roomId, afterSeq, limit) {
      if (limit <= 0) return [];
      const raws = await orUnavailable('after', () =>
        client.zrangebyscore(keys.messages(roomId), `(${afterSeq}`, '+inf', 'LIMIT', 0, limit),
      );
      return decodeAll(roomId, raws);
    },

    async lastSeq(roomId) {
      const value = await orUnavailable('lastSeq', () => client.get(keys.seq(roomId)));
      return value === null ? 0 : Number(value);
    },
  };
}
