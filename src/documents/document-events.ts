import { randomUUID } from 'node:crypto';
import { ChatError } from '../chat/errors.ts';
import type { Logger } from '../chat/logger.ts';
import type { RoomEventBus } from '../chat/ports/index.ts';
import type { PresenceService } from '../chat/presence.ts';
import { ReplaySlots } from '../chat/replay-slots.ts';
import type { User, Viewer } from '../chat/types.ts';
import type { EventQueueOptions } from '../streams/event-queue.ts';
import { PresentStream, type PresenceShared } from '../streams/present-stream.ts';
import { createTopicHubs, type TopicHubs, type TopicSource } from '../streams/topic-hubs.ts';
import type { DocumentService } from './documents.ts';
import type { DocumentEventBus, DocumentStore } from './ports/index.ts';
import type { DocumentEvent } from './types.ts';

/**
 * The presence scope of a document's editors. Presence is keyed by topic; a `doc:` prefix cannot collide with a
 * room id (the server makes those), and the presence store announces on the room bus under this topic, so editors
 * get the same ordering, cluster-wide counting and dead-instance reaping as room members.
 */
export const editorsTopic = (documentId: string) => `doc:${documentId}`;

export interface DocumentEventServiceOptions {
  documents: DocumentService;
  store: DocumentStore;
  bus: DocumentEventBus;
  /** Where the presence store announces editors (under `editorsTopic`). */
  roomBus: RoomEventBus;
  presence: PresenceService;
  logger: Logger;
  queue?: Pick<EventQueueOptions, 'dropEphemeralAbove' | 'maxQueued'>;
  /** Edits read per page during an `afterVersion` replay. @default 200 */
  replayPageSize?: number;
  /** Concurrent `afterVersion` replays per user on this instance; more wait their turn. @default 4 */
  maxReplaysPerUser?: number;
}

export interface OpenDocumentEventsInput {
  documentId: string;
  afterVersion?: number | null;
}

const tooOld = (version: number) =>
  new ChatError('VERSION_TOO_OLD', `the edit log no longer reaches back to version ${version}; reload the document`);

interface Shared extends PresenceShared<DocumentEvent> {
  hubs: TopicHubs<DocumentEvent>;
  store: DocumentStore;
  presence: PresenceService;
}

/** One subscriber's document stream (the replay seam is `OrderedStream`'s, presence `PresentStream`'s), plus its editor presence. */
class DocumentEventStream extends PresentStream<DocumentEvent> {
  constructor(
    readonly documentId: string,
    readonly user: User,
    readonly connectionId: string,
    readonly shared: Shared,
    slots: ReplaySlots,
    replayPageSize: number,
    options: EventQueueOptions | undefined,
  ) {
    super(slots, user.id, replayPageSize, options);
  }

  /** Cursors may be dropped for a reader that fell behind; edits never are. */
  protected override isEphemeral(event: DocumentEvent): boolean {
    return event.kind === 'cursor';
  }

  /** The mover's own subscriptions do not get its cursor (contract): filtered here, per subscriber, not in a resolver. */
  protected override accepts(event: DocumentEvent): boolean {
    return event.kind !== 'cursor' || event.user.id !== this.user.id;
  }

  protected seqOf(event: DocumentEvent): number | null {
    return event.kind === 'edited' ? event.edit.version : null;
  }

  protected async readAfter(seq: number, limit: number): Promise<DocumentEvent[]> {
    const edits = await this.shared.store.editsAfter(this.documentId, seq, limit);
    if (!edits) throw tooOld(seq);
    return edits.map((edit): DocumentEvent => ({ kind: 'edited', edit }));
  }

  protected get topic(): string {
    return this.documentId;
  }

  protected async joinPresence(): Promise<void> {
    await this.shared.presence.join(editorsTopic(this.documentId), this.user, this.connectionId);
  }

  protected async leavePresence(): Promise<void> {
    await this.shared.presence.leave(editorsTopic(this.documentId), this.user, this.connectionId);
  }
}

/** A document's topic for the hubs: its edits and cursors from the document bus, its editors from presence. */
function documentTopic(store: DocumentStore, bus: DocumentEventBus, roomBus: RoomEventBus): TopicSource<DocumentEvent> {
  return {
    async subscribe(documentId, listener) {
      const offEdits = await bus.subscribe(documentId, listener);
      try {
        const offEditors = await roomBus.subscribe(editorsTopic(documentId), {
          onEvent(event) {
            if (event.kind === 'joined' || event.kind === 'left') {
              listener.onEvent({
                kind: event.kind === 'joined' ? 'editorJoined' : 'editorLeft',
                documentId,
                user: event.user,
                at: event.at,
              });
            }
          },
          // Editor events lost meanwhile are not recoverable (as for members); edits are, from the bus's own gap.
          onPossibleGap: () => undefined,
        });
        return async () => {
          await Promise.all([offEdits(), offEditors()]);
        };
      } catch (error) {
        await offEdits().catch(() => undefined);
        throw error;
      }
    },
    head: async (documentId) => (await store.head(documentId))?.version ?? 0,
    after: async (documentId, seq, limit) =>
      (await store.editsAfter(documentId, seq, limit))?.map((edit): DocumentEvent => ({ kind: 'edited', edit })) ?? null,
    seqOf: (event) => (event.kind === 'edited' ? event.edit.version : null),
  };
}

/**
 * `documentEvents` for one subscriber, whatever the transport: every edit once in version order (with
 * `afterVersion` a replay from the edit log that meets the live stream with no gap and no duplicate), editors
 * joining and leaving, and other users' cursors.
 */
export function createDocumentEventService(options: DocumentEventServiceOptions) {
  const { documents, store, bus, roomBus, presence, logger, queue, replayPageSize = 200, maxReplaysPerUser = 4 } = options;
  let open = 0;
  const idPrefix = `${randomUUID().slice(0, 13)}.d`;
  let sequence = 0;
  const slots = new ReplaySlots(maxReplaysPerUser);
  const hubs = createTopicHubs<DocumentEvent>({
    source: documentTopic(store, bus, roomBus),
    logger,
    failure: (documentId, cause, logTooShort) =>
      logTooShort
        ? new ChatError('VERSION_TOO_OLD', `the edit log of ${documentId} no longer reaches back; reload the document`, { cause })
        : new ChatError('UNAVAILABLE', 'the edit log is unreachable; resubscribe with `afterVersion`', { cause }),
  });
  const shared: Shared = { hubs, store, presence, logger, closed: () => (open -= 1), leaving: new Set() };

  return {
    get openCount() {
      return open;
    },

    /** Documents with at least one local subscriber. */
    get hubCount() {
      return hubs.size;
    },

    /** As `roomEvents.drain`: lets ending streams publish their EditorLeft before Redis is let go. */
    async drain(timeoutMs: number): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (open > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      await Promise.race([
        Promise.all(shared.leaving),
        new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref()),
      ]);
    },

    async open(viewer: Viewer, { documentId, afterVersion }: OpenDocumentEventsInput): Promise<AsyncIterableIterator<DocumentEvent>> {
      const head = await documents.require(viewer, documentId);
      const after = afterVersion ?? null;
      if (after !== null) {
        if (!Number.isSafeInteger(after) || after < 0) throw new ChatError('BAD_USER_INPUT', 'afterVersion must be >= 0');
        // The head only moves forward: a cursor within it now stays within it.
        if (after > head.version)
          throw new ChatError('BAD_USER_INPUT', `afterVersion ${after} is above the current version ${head.version}`);
        if ((await store.editsAfter(documentId, after, 1)) === null) throw tooOld(after);
      }
      const user = { id: viewer.id, name: viewer.name };
      const stream = new DocumentEventStream(documentId, user, idPrefix + (++sequence).toString(36), shared, slots, replayPageSize, queue);
      open += 1;
      await stream.open(after, () => slots.take(viewer.id, stream));
      return stream;
    },
  };
}

export type DocumentEventService = ReturnType<typeof createDocumentEventService>;
