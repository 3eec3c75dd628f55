import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ChatError } from '../../chat/errors.ts';
import type { Logger } from '../../chat/logger.ts';
import type { CommitResult, DocumentStore } from '../../documents/ports/index.ts';
import type { DocumentEdit, DocumentHead, DocumentState } from '../../documents/types.ts';
import { clientMessageKey } from '../client-message-key.ts';
import type { RedisClock } from './connections.ts';
import { decodeStoredEdit, encodeEditEvent } from './document-codec.ts';
import { orUnavailable } from './errors.ts';
import type { Keys } from './keys.ts';
import { loadLuaScript } from './scripts.ts';

export interface RedisDocumentStoreOptions {
  client: Redis;
  keys: Keys;
  logger: Logger;
  /** Edits kept per document (DOC_HISTORY_LIMIT). */
  historyLimit: number;
  clock: RedisClock;
  /** The command client's timeout: the commit script refuses to run once half of it has passed (Redis clock). */
  commandTimeoutMs: number;
  /**
   * After a commit whose reply was lost, how long to ask Redis whether it was committed (long enough for a
   * supervised Redis to restart, as for messages). @default 10 x commandTimeoutMs
   */
  settleTimeoutMs?: number;
}

const FIELDS = ['roomId', 'title', 'createdAt', 'createdBy', 'text', 'version'] as const;
// ioredis's words for a command refused before it was written (enableOfflineQueue: false): certainly not run.
const NOT_SENT = /enableOfflineQueue|Stream isn't writeable/;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const HEAD_FIELDS = ['roomId', 'title', 'createdAt', 'createdBy', 'version'] as const;

function decodeHead(id: string, values: ReadonlyArray<string | null>): DocumentHead | null {
  const [roomId, title, createdAt, createdBy, version] = values;
  if (roomId == null || title == null || createdAt == null || createdBy == null || version == null) return null;
  return { id, roomId, title, createdAt, createdBy, version: Number(version) };
}

function decodeState(id: string, values: ReadonlyArray<string | null>): DocumentState | null {
  const [roomId, title, createdAt, createdBy, text, version] = values;
  const head = decodeHead(id, [roomId ?? null, title ?? null, createdAt ?? null, createdBy ?? null, version ?? null]);
  return head && text != null ? { ...head, text } : null;
}

/** The results of a MULTI, or UNAVAILABLE when it or any of its commands failed. */
async function exec(what: string, run: () => Promise<[error: Error | null, result: unknown][] | null>): Promise<unknown[]> {
  const replies = await orUnavailable(what, run);
  if (!replies) throw new ChatError('UNAVAILABLE', `${what}: transaction aborted`);
  return replies.map(([error, result]) => {
    if (error) throw new ChatError('UNAVAILABLE', `${what}: Redis refused a command`, { cause: error });
    return result;
  });
}

export function createRedisDocumentStore(options: RedisDocumentStoreOptions): DocumentStore {
  const { client, keys, logger, historyLimit, clock, commandTimeoutMs, settleTimeoutMs = commandTimeoutMs * 10 } = options;
  const commitScript = loadLuaScript(client, 'commit-edit');

  const decodeEdits = (id: string, raws: readonly string[]): DocumentEdit[] => {
    const edits: DocumentEdit[] = [];
    for (const raw of raws) {
      const edit = decodeStoredEdit(id, raw);
      if (edit) edits.push(edit);
      else logger.error({ documentId: id, bytes: raw.length }, 'skipped an undecodable edit log entry');
    }
    return edits;
  };
  /** The log must hold edit `afterVersion + 1` when it holds anything after it (it always holds the newest). */
  const reachesBack = (edits: readonly DocumentEdit[], afterVersion: number) =>
    edits.length === 0 || edits[0]!.version === afterVersion + 1;
  const editAt = async (id: string, version: string): Promise<DocumentEdit | null> =>
    decodeEdits(id, await client.zrangebyscore(keys.documentEdits(id), version, version))[0] ?? null;

  /**
   * The commit was sent but its reply never came: it may have run before Redis died or froze. Ask until Redis
   * answers: committed -> that edit (it was published by the same script); absent once Redis's clock is past the
   * script's deadline -> it did not commit and never will (whether it never ran or lost the compare-and-set).
   */
  async function settle(id: string, field: string, deadline: number, cause: unknown): Promise<CommitResult> {
    const giveUpAt = Date.now() + settleTimeoutMs;
    while (Date.now() < giveUpAt) {
      try {
        const version = await client.hget(keys.documentIdempotency(id), field);
        if (version !== null) {
          const edit = await editAt(id, version);
          if (edit) {
            logger.warn({ documentId: id, version: edit.version }, 'commit reply was lost; the edit is committed');
            return { status: 'committed', edit };
          }
        } else if (clock.now() > deadline + 100) {
          throw new ChatError('UNAVAILABLE', 'editDocument: Redis unavailable; nothing committed', { cause });
        }
      } catch (error) {
        if (error instanceof ChatError) throw error;
      }
      await sleep(100);
    }
    throw new ChatError('UNAVAILABLE', 'editDocument: Redis unavailable; retry with the same clientEditId', { cause });
  }

  return {
    async create(document) {
      await exec('createDocument', () =>
        client
          .multi()
          .hset(keys.document(document.id), {
            roomId: document.roomId,
            title: document.title,
            createdAt: document.createdAt,
            createdBy: document.createdBy,
            text: document.text,
            version: 0,
          })
          .rpush(keys.roomDocuments(document.roomId), document.id)
          .exec(),
      );
    },

    async get(id) {
      const values = await orUnavailable('document', () => client.hmget(keys.document(id), ...FIELDS));
      return decodeState(id, values);
    },

    async head(id) {
      const values = await orUnavailable('document', () => client.hmget(keys.document(id), ...HEAD_FIELDS));
      return decodeHead(id, values);
    },

    async listByRoom(roomId) {
      const ids = await orUnavailable('documents', () => client.lrange(keys.roomDocuments(roomId), 0, -1));
      if (ids.length === 0) return [];
      const pipeline = client.pipeline();
      for (const id of ids) pipeline.hmget(keys.document(id), ...FIELDS);
      const replies = await exec('documents', () => pipeline.exec());
      return ids.flatMap((id, n) => decodeState(id, replies[n] as (string | null)[]) ?? []);
    },

    async readSince(id, afterVersion) {
      const [values, raws] = await exec('document', () =>
        client
          .multi()
          .hmget(keys.document(id), ...FIELDS)
          .zrangebyscore(keys.documentEdits(id), `(${afterVersion}`, '+inf')
          .exec(),
      );
      const document = decodeState(id, values as (string | null)[]);
      if (!document) return null;
      const edits = decodeEdits(id, raws as string[]);
      return { document, edits: reachesBack(edits, afterVersion) ? edits : null };
    },

    async editsAfter(id, afterVersion, limit) {
      if (limit <= 0) return [];
      const raws = await orUnavailable('edits', () =>
        client.zrangebyscore(keys.documentEdits(id), `(${afterVersion}`, '+inf', 'LIMIT', 0, limit),
      );
      const edits = decodeEdits(id, raws);
      return reachesBack(edits, afterVersion) ? edits : null;
    },

    async findByClientEditId(id, authorId, clientEditId) {
      const version = await orUnavailable('findByClientEditId', () =>
        client.hget(keys.documentIdempotency(id), clientMessageKey(authorId, clientEditId)),
      );
      return version === null ? null : orUnavailable('findByClientEditId', () => editAt(id, version));
    },

    async commit(input) {
      const id = input.documentId;
      const edit: DocumentEdit = {
        documentId: id,
        version: input.expectedVersion + 1,
        operation: input.operation,
        author: input.author,
        clientEditId: input.clientEditId,
        at: input.at,
      };
      // Without a clientEditId the commit still gets a token of its own (SOH-prefixed, never a retry key): it is
      // how a lost reply is settled.
      const field =
        input.clientEditId === null
          ? `\u0001${randomBytes(9).toString('base64url')}`
          : clientMessageKey(input.author.id, input.clientEditId);
      const deadline = Math.floor(clock.now() + commandTimeoutMs / 2);
      let reply: unknown;
      try {
        reply = await commitScript.run(
          [keys.document(id), keys.documentEdits(id), keys.documentIdempotency(id), keys.documentIdempotencyByVersion(id)],
          [keys.documentChannel(id), input.expectedVersion, field, encodeEditEvent(edit), input.text, historyLimit, deadline],
          // Waiting well past the deadline turns "ran, then froze before replying" into a known outcome.
          { replyTimeoutMs: commandTimeoutMs * 3 },
        );
      } catch (error) {
        if (error instanceof Error && NOT_SENT.test(error.message)) {
          throw new ChatError('UNAVAILABLE', 'editDocument: Redis unavailable; nothing committed', { cause: error });
        }
        return settle(id, field, deadline, error);
      }
      if (!Array.isArray(reply)) throw new Error(`commit script returned ${typeof reply}`);
      const [code, value] = reply as [number, string | number | undefined];
      if (code === -1) throw new ChatError('UNAVAILABLE', 'editDocument: Redis answered too late; nothing committed');
      if (code === -2) throw new ChatError('NOT_FOUND', `document ${id} does not exist`);
      if (code === 2) return { status: 'conflict', headVersion: Number(value) };
      const committed = typeof value === 'string' ? decodeStoredEdit(id, value) : null;
      if (!committed) throw new Error('commit script returned an undecodable edit');
      return { status: code === 1 ? 'committed' : 'duplicate', edit: committed };
    },
  };
}
