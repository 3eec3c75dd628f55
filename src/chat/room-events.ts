import { randomUUID } from 'node:crypto';
import { ChatError } from './errors.ts';
import { EventQueue, type EventQueueOptions } from './event-queue.ts';
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
interface Shared {
  hubs: RoomHubs;
  store: MessageStore;
  slots: ReplaySlots;
  replayPageSize: number;
  presence: PresenceService;
  logger: Logger;
  closed(): void;
  /** Presence leaves still on their way to the store; a shutdown waits for them. */
  leaving: Set<Promise<void>>;
}

/**
 * One subscriber's stream: the queue its transport reads, the sink its room hub feeds, and its presence.
 * A class, because thousands live at once and closures per instance would be copied into each.
 *
 * With `after`, it replays history a page at a time, paced by its reader (`replayTaken`), while the live events
 * that arrive meanwhile wait in `held` (bounded like the queue). The replay ends where the first held message
 * starts, or where history ends: every message after the cursor comes once, in order, no gap at the seam.
 */
class RoomEventStream extends EventQueue implements HubSink, SlotHolder {
  /** Live events wait here while history is replayed; `null` once the replay has caught up. */
  held: RoomEvent[] | null = null;
  /** The seq of the first message held: the replay stops before it. */
  heldFromSeq = Infinity;
  /** Messages up to this seq came from the replay: their live copies are duplicates. */
  replayedUpTo = 0;
  joined = false;
  attached = false;

  constructor(
    readonly roomId: string,
    readonly user: User,
    readonly connectionId: string,
    readonly shared: Shared,
    options: EventQueueOptions | undefined,
  ) {
    super(options);
  }

  deliver(event: RoomEvent): void {
    if (this.ended) return;
    const held = this.held;
    if (!held) {
      if (event.kind !== 'message' || event.message.seq > this.replayedUpTo) this.push(event);
      return;
    }
    // Held while the replay runs: bounded like the queue itself, so a replay that cannot finish (a reader that
    // stopped reading) does not grow with the room's live traffic.
    if (event.kind === 'typing' && held.length >= this.dropEphemeralAbove) return;
    if (held.length >= this.maxQueued) {
      this.fail(new ChatError('UNAVAILABLE', 'subscriber fell too far behind; resubscribe with `after`'));
      return;
    }
    if (event.kind === 'message' && this.heldFromSeq === Infinity) this.heldFromSeq = event.message.seq;
    held.push(event);
  }

  /** Failed (the reader still gets what was queued before): nothing more is held or replayed for it. */
  override fail(error: Error): void {
    super.fail(error);
    this.held = null;
    this.shared.slots.leave(this.user.id, this);
  }

  /** Holds a replay slot (`ReplaySlots`): replays history from `replayedUpTo`, then goes live. */
  start(): void {
    void this.#replay();
  }

  async #replay(): Promise<void> {
    const { store, replayPageSize, slots } = this.shared;
    try {
      for (;;) {
        // The next page only once the reader has taken the last one: one page in memory per replay.
        await this.replayTaken();
        if (this.ended) return;
        const page = await store.after(this.roomId, this.replayedUpTo, replayPageSize);
        if (this.ended) return;
        let caughtUp = page.length === 0;
        for (const message of page) {
          // From here on the hub passes every message on, in order: the held copies are the ones to deliver.
          if (message.seq >= this.heldFromSeq) {
            caughtUp = true;
            break;
          }
          this.pushReplayed({ kind: 'message', roomId: this.roomId, message });
          this.replayedUpTo = message.seq;
        }
        if (caughtUp || this.replayedUpTo >= this.heldFromSeq - 1) break;
      }
      const live = this.held ?? [];
      this.held = null;
      for (const event of live) this.deliver(event);
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    } finally {
      slots.leave(this.user.id, this);
    }
  }

  /** The store recorded this connection: a stream that ended while the join was on its way leaves at once. */
  markJoined(): void {
    this.joined = true;
    if (this.closed) this.leave();
  }

  protected override onClosed(): void {
    const { hubs, closed, slots } = this.shared;
    closed();
    this.held = null;
    // A replay still waiting for its turn leaves the queue; a running one gives its slot to the next.
    slots.leave(this.user.id, this);
    if (this.attached) hubs.detach(this.roomId, this);
    if (this.joined) this.leave();
  }

  private leave(): void {
    const { presence, logger, leaving } = this.shared;
    const leave = presence
      .leave(this.roomId, this.user, this.connectionId)
      .catch((error: unknown) => logger.warn({ roomId: this.roomId, userId: this.user.id, err: error }, 'presence leave failed'))
      .finally(() => leaving.delete(leave));
    leaving.add(leave);
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
      const stream = new RoomEventStream(roomId, { id: viewer.id, name: viewer.name }, idPrefix + (++sequence).toString(36), shared, queueOptions);
      open += 1;
      if (afterSeq !== null) stream.held = [];

      try {
        await hubs.attach(roomId, stream);
        stream.attached = true;
        // A cursor past the newest stored message (history lost or a forged id) would make the seam filter drop
        // every live message up to it, silently. Read after attaching, so a cursor just received is never newer.
        if (afterSeq !== null && afterSeq > (await store.lastSeq(roomId))) {
          throw new ChatError('BAD_USER_INPUT', `"${after}" is newer than the newest message of room ${roomId}`);
        }
        await presence.join(roomId, stream.user, stream.connectionId);
        stream.markJoined();
        if (afterSeq !== null) {
          // Live from here; the replay runs when the user has a free slot, at its reader's pace.
          stream.replayedUpTo = afterSeq;
          slots.take(viewer.id, stream);
        }
      } catch (error) {
        await stream.return();
        throw error;
      }
      return stream;
    },
  };
}

export type RoomEventService = ReturnType<typeof createRoomEventService>;
