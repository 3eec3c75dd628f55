import { randomUUID } from 'node:crypto';
import { ChatError } from './errors.ts';
import { PresentStream, type PresenceShared } from '../streams/present-stream.ts';
import type { EventQueueOptions } from './event-queue.ts';
import type { Logger } from './logger.ts';
import { parseMessageSeq } from './message-id.ts';
import type { MessageStore } from './ports/index.ts';
import type { PresenceService } from './presence.ts';
import { ReplaySlots, type SlotHolder } from './replay-slots.ts';
import type { HubSink, RoomHubs } from './room-hubs.ts';
import type { RoomService } from './rooms.ts';
import type { RoomEvent, User, Viewer } from './types.ts';

export interface RoomEventServiceOptions {
  rooms: RoomService;
  store: MessageStore;
  hubs: RoomHubs;
  presence: PresenceService;
  logger: Logger;
  queue?: Pick<EventQueueOptions, 'dropEphemeralAbove' | 'maxQueued'>;
  /**
   * Messages read per page during an `after` replay; a replay holds one page at a time, and reads the next only
   * once its reader has taken the last. @default 200
   */
  replayPageSize?: number;
  /** Concurrent `after` replays per user on this instance; more wait their turn (live, events held). @default 4 */
  maxReplaysPerUser?: number;
}

export interface OpenRoomEventsInput {
  roomId: string;
  /** Replay every stored message newer than this id first. */
  after?: string | null;
}

/** What a subscription needs from its service when it ends; one object shared by all of them. */
interface Shared extends PresenceShared<RoomEvent> {
  hubs: RoomHubs;
  store: MessageStore;
  slots: ReplaySlots;
  replayPageSize: number;
  presence: PresenceService;
}

/**
 * One subscriber's stream of a room (`streams/ordered-stream.ts`: the `after` replay and its seam), plus its
 * presence: the viewer counted present until the stream ends.
 */
class RoomEventStream extends PresentStream<RoomEvent> implements HubSink, SlotHolder {
  constructor(
    readonly roomId: string,
    readonly user: User,
    readonly connectionId: string,
    readonly shared: Shared,
    options: EventQueueOptions | undefined,
  ) {
    super(shared.slots, user.id, shared.replayPageSize, options);
  }

  protected override isEphemeral(event: RoomEvent): boolean {
    return event.kind === 'typing';
  }

  protected seqOf(event: RoomEvent): number | null {
    return event.kind === 'message' ? event.message.seq : null;
  }

  protected async readAfter(seq: number, limit: number): Promise<RoomEvent[]> {
    const page = await this.shared.store.after(this.roomId, seq, limit);
    return page.map((message): RoomEvent => ({ kind: 'message', roomId: this.roomId, message }));
  }

  protected get topic(): string {
    return this.roomId;
  }

  protected async joinPresence(): Promise<void> {
    await this.shared.presence.join(this.roomId, this.user, this.connectionId);
  }

  protected async leavePresence(): Promise<void> {
    await this.shared.presence.leave(this.roomId, this.user, this.connectionId);
  }
}

/**
 * A room's ordered event stream for one subscriber, whatever the transport: live as soon as it resolves,
 * the viewer counted present until the iterator is returned, and with `after` a replay that meets the live
 * stream with no gap and no duplicate.
 */
export function createRoomEventService({
  rooms,
  store,
  hubs,
  presence,
  logger,
  queue: queueOptions,
  replayPageSize = 200,
  maxReplaysPerUser = 4,
}: RoomEventServiceOptions) {
  let open = 0;
  // Unique across the cluster (presence keys are shared): one random prefix per process, then a counter. Short
  // and built once, unlike a UUID per subscription, which V8 keeps as a tree of string pieces.
  const idPrefix = `${randomUUID().slice(0, 13)}.`;
  let sequence = 0;
  const slots = new ReplaySlots(maxReplaysPerUser);
  const shared: Shared = { hubs, store, slots, replayPageSize, presence, logger, closed: () => (open -= 1), leaving: new Set() };

  return {
    /** Open roomEvents streams on this instance. */
    get openCount() {
      return open;
    },

    /**
     * Waits (at most `timeoutMs`) for the streams that are ending to end and for their presence leaves to be
     * stored and published, so that a graceful shutdown reports its members left before it lets go of Redis.
     */
    async drain(timeoutMs: number): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (open > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      await Promise.race([
        Promise.all(shared.leaving),
        new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref()),
      ]);
    },

    async open(viewer: Viewer, { roomId, after }: OpenRoomEventsInput): Promise<AsyncIterableIterator<RoomEvent>> {
      await rooms.require(viewer, roomId);
      const afterSeq = after ? parseMessageSeq(roomId, after) : null;
      const stream = new RoomEventStream(
        roomId,
        { id: viewer.id, name: viewer.name },
        idPrefix + (++sequence).toString(36),
        shared,
        queueOptions,
      );
      open += 1;
      // The replay runs when the user has a free slot, at its reader's pace.
      await stream.open(
        afterSeq,
        () => slots.take(viewer.id, stream),
        // A cursor past the newest stored message (history lost or a forged id) would make the seam filter drop
        // every live message up to it, silently. Read after attaching, so a cursor just received is never newer.
        async () => {
          if (afterSeq !== null && afterSeq > (await store.lastSeq(roomId))) {
            throw new ChatError('BAD_USER_INPUT', `"${after}" is newer than the newest message of room ${roomId}`);
          }
        },
      );
      return stream;
    },
  };
}

export type RoomEventService = ReturnType<typeof createRoomEventService>;
