import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ChatError } from '../../chat/errors.ts';
import type { Logger } from '../../chat/logger.ts';
import { formatMessageId } from '../../chat/message-id.ts';
import type { AppendResult, MessageStore } from '../../chat/ports/index.ts';
import type { Message } from '../../chat/types.ts';
import { clientMessageKey } from '../client-message-key.ts';
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
  /** MESSAGE_RATE, spent inside the append script from the buckets the `message` rate limiter uses. */
  rate: { ratePerSecond: number; burst: number };
  clock: RedisClock;
  /**
   * The command client's timeout. The append script refuses to run once half of it has passed in Redis's clock,
   * so an append that a frozen Redis executes after we answered UNAVAILABLE stores nothing.
   */
  commandTimeoutMs: number;
  /**
   * After an append whose reply was lost (connection dropped, Redis killed or frozen after running it), how long
   * to keep asking Redis whether it was stored before answering UNAVAILABLE without knowing. Long enough for a
   * supervised Redis to restart (a crash with AOF keeps an append that ran): an UNAVAILABLE for a message that was
   * in fact stored breaks "UNAVAILABLE: nothing stored", a slow answer does not. @default 10 x commandTimeoutMs
   */
  settleTimeoutMs?: number;
}

/** The limit name of MESSAGE_RATE buckets: `createRedisAdapters` gives the `messageRate` limiter the same one. */
export const MESSAGE_LIMIT = 'message';

// ioredis's words for a command refused before it was written (enableOfflineQueue: false): certainly not run.
const NOT_SENT = /enableOfflineQueue|Stream isn't writeable/;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createRedisMessageStore(options: RedisMessageStoreOptions): MessageStore {
  const { client, keys, logger, historyLimit, rate, clock, commandTimeoutMs, settleTimeoutMs = commandTimeoutMs * 10 } = options;
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
  const messageAt = async (roomId: string, seq: string): Promise<Message | null> =>
    decodeAll(roomId, await client.zrangebyscore(keys.messages(roomId), seq, seq))[0] ?? null;

  /**
   * The append was sent but its reply never came: it may have run (and been fsynced) before Redis died or froze.
   * Ask until Redis answers: stored -> the stored message (it was published in the same script); absent once
   * Redis's clock is past the script's deadline -> it never ran and never will. Only if Redis stays away for
   * `settleTimeoutMs` does the caller get UNAVAILABLE without knowing, and a retry with the same
   * clientMessageId then settles it.
   */
  async function settle(roomId: string, field: string, deadline: number, cause: unknown): Promise<AppendResult> {
    stalled = true;
    const giveUpAt = Date.now() + settleTimeoutMs;
    while (Date.now() < giveUpAt) {
      try {
        const seq = await client.hget(keys.idempotency(roomId), field);
        stalled = false;
        if (seq !== null) {
          const message = await messageAt(roomId, seq);
          if (message) {
            logger.warn({ roomId, seq: message.seq }, 'append reply was lost; the message is stored');
            return { status: 'created', message };
          }
        } else if (clock.now() > deadline + 100) {
          // Past the deadline in Redis's clock (with a margin for the offset): the script can no longer run.
          throw new ChatError('UNAVAILABLE', 'append: Redis unavailable; nothing stored', { cause });
        }
      } catch (error) {
        if (error instanceof ChatError) throw error;
      }
      await sleep(100);
    }
    throw new ChatError('UNAVAILABLE', 'append: Redis unavailable; retry with the same clientMessageId', { cause });
  }

  /**
   * Set while an append's reply is missing and Redis has not answered since. The reads that used to precede the
   * append (room, retry, rate) failed within one command timeout when Redis froze; the append alone waits far
   * longer for its reply (above). So while stalled, a PING goes first: a message is not sent into a Redis that
   * may run it after we stop waiting, and the answer is a prompt UNAVAILABLE with certainly nothing stored.
   */
  let stalled = false;
  /** One random prefix per store, then a counter: unique across instances and restarts, no random bytes per message. */
  const ownTokens = `\u0001${randomBytes(12).toString('base64url')}:`;
  let appends = 0;
  async function probe(): Promise<void> {
    try {
      await client.ping();
      stalled = false;
    } catch (error) {
      throw new ChatError('UNAVAILABLE', 'append: Redis is not answering; nothing stored', { cause: error });
    }
  }

  return {
    async append(input) {
      if (stalled) await probe();
      const { roomId, author, body, sentAt, clientMessageId } = input;
      const { head, tail } = encodeMessageTemplate(input);
      // Without a clientMessageId the append still gets a token of its own (SOH-prefixed, never a retry key): it is
      // how a lost reply is settled below.
      const field = clientMessageId === null ? `${ownTokens}${(appends += 1).toString(36)}` : clientMessageKey(author.id, clientMessageId);
      const deadline = Math.floor(clock.now() + commandTimeoutMs / 2);
      let reply: unknown;
      try {
        reply = await append.run(
          [
            keys.seq(roomId),
            keys.messages(roomId),
            keys.idempotency(roomId),
            keys.idempotencyBySeq(roomId),
            keys.room(roomId),
            keys.rate(MESSAGE_LIMIT, author.id),
          ],
          [
            keys.roomChannel(roomId),
            field,
            head,
            tail,
            historyLimit,
            deadline,
            author.id,
            JSON.stringify(author.id),
            rate.ratePerSecond,
            rate.burst,
            clientMessageId === null ? '0' : '1',
          ],
          // The script refuses to run after `deadline`; waiting for its reply well past that means a Redis that
          // ran it and then froze (SIGSTOP, a stalled fsync) before replying yields the stored message on resume,
          // not an UNAVAILABLE for a message that is in fact stored and delivered.
          { replyTimeoutMs: commandTimeoutMs * 3 },
        );
      } catch (error) {
        if (error instanceof Error && NOT_SENT.test(error.message)) {
          throw new ChatError('UNAVAILABLE', 'append: Redis unavailable; nothing stored', { cause: error });
        }
        return settle(roomId, field, deadline, error);
      }
      if (!Array.isArray(reply)) throw new Error(`append script returned ${typeof reply}`);
      const [code, value] = reply as [number, number | string | undefined];
      switch (code) {
        case 1: {
          // Built from what was sent rather than decoded from the stored JSON: the same fields, one JSON.parse less.
          const seq = value as number;
          const message = {
            id: formatMessageId(roomId, seq),
            roomId,
            seq,
            author: { id: author.id, name: author.name },
            body,
            sentAt,
            clientMessageId,
          };
          return { status: 'created', message };
        }
        case 0: {
          const message = typeof value === 'string' ? decodeStoredMessage(roomId, value) : null;
          if (!message) throw new Error('append script returned an undecodable message');
          return { status: 'duplicate', message };
        }
        case -1:
          throw new ChatError('UNAVAILABLE', 'append: Redis answered too late; nothing stored');
        case -2:
          return { status: 'no-room' };
        case -3:
          return { status: 'forbidden' };
        case -4:
          return { status: 'rate-limited' };
        default:
          throw new Error(`append script returned code ${String(code)}`);
      }
    },

    async latest(roomId, limit, beforeSeq) {
      if (limit <= 0) return [];
      const max = beforeSeq === undefined ? '+inf' : `(${beforeSeq}`;
      const raws = await orUnavailable('latest', () => client.zrevrangebyscore(keys.messages(roomId), max, '-inf', 'LIMIT', 0, limit));
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
