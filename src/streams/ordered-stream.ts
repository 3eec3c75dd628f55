import { ChatError } from '../chat/errors.ts';
import { StreamQueue, type EventQueueOptions } from './event-queue.ts';
import type { TopicSink } from './topic-hubs.ts';

/** Concurrent replays per user (`chat/replay-slots.ts`): a stream leaves its slot when its replay is over. */
export interface ReplaySlotLike {
  leave(key: string, holder: object): void;
}

/**
 * One subscriber's stream of an ordered topic: the queue its transport reads and the sink its topic hub feeds.
 * A class, because thousands live at once and closures per instance would be copied into each.
 *
 * With a cursor (`replayedUpTo`), it replays the log a page at a time, paced by its reader (`replayTaken`), while
 * the live events that arrive meanwhile wait in `held` (bounded like the queue). The replay ends where the first
 * held logged event starts, or where the log ends: every event after the cursor comes once, in order, no gap at the
 * seam. Subclasses say how events are numbered and read, and which ones this subscriber skips.
 */
export abstract class OrderedStream<E> extends StreamQueue<E> implements TopicSink<E> {
  /** Live events wait here while the log is replayed; `null` once the replay has caught up. */
  held: E[] | null = null;
  /** The seq of the first logged event held: the replay stops before it. */
  heldFromSeq = Infinity;
  /** Logged events up to this seq came from the replay: their live copies are duplicates. */
  replayedUpTo = 0;

  constructor(
    readonly slots: ReplaySlotLike,
    readonly slotKey: string,
    readonly replayPageSize: number,
    options: EventQueueOptions | undefined,
  ) {
    super(options);
  }

  /** The event's sequence number in the topic's log, or null for one that is not logged. */
  protected abstract seqOf(event: E): number | null;
  /** At most `limit` logged events after `seq`, oldest first (rejects when the log no longer reaches back). */
  protected abstract readAfter(seq: number, limit: number): Promise<E[]>;
  /** False for an event this subscriber does not get (its own cursor). */
  protected accepts(_event: E): boolean {
    return true;
  }

  deliver(event: E): void {
    if (this.ended || !this.accepts(event)) return;
    const held = this.held;
    const seq = this.seqOf(event);
    if (!held) {
      if (seq === null || seq > this.replayedUpTo) this.push(event);
      return;
    }
    // Held while the replay runs: bounded like the queue itself, so a replay that cannot finish (a reader that
    // stopped reading) does not grow with the topic's live traffic.
    if (held.length >= this.dropEphemeralAbove && this.isEphemeral(event)) return;
    if (held.length >= this.maxQueued) {
      this.fail(new ChatError('UNAVAILABLE', 'subscriber fell too far behind; resubscribe with its cursor'));
      return;
    }
    if (seq !== null && this.heldFromSeq === Infinity) this.heldFromSeq = seq;
    held.push(event);
  }

  /** Failed (the reader still gets what was queued before): nothing more is held or replayed for it. */
  override fail(error: Error): void {
    super.fail(error);
    this.held = null;
    this.slots.leave(this.slotKey, this);
  }

  /** Holds a replay slot: replays the log from `replayedUpTo`, then goes live. */
  start(): void {
    void this.#replay();
  }

  async #replay(): Promise<void> {
    try {
      for (;;) {
        // The next page only once the reader has taken the last one: one page in memory per replay.
        await this.replayTaken();
        if (this.ended) return;
        const page = await this.readAfter(this.replayedUpTo, this.replayPageSize);
        if (this.ended) return;
        let caughtUp = page.length === 0;
        for (const event of page) {
          const seq = this.seqOf(event) ?? 0;
          // From here on the hub passes every logged event on, in order: the held copies are the ones to deliver.
          if (seq >= this.heldFromSeq) {
            caughtUp = true;
            break;
          }
          this.pushReplayed(event);
          this.replayedUpTo = seq;
        }
        if (caughtUp || this.replayedUpTo >= this.heldFromSeq - 1) break;
      }
      const live = this.held ?? [];
      this.held = null;
      for (const event of live) this.deliver(event);
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.slots.leave(this.slotKey, this);
    }
  }

  protected override onClosed(): void {
    this.held = null;
    // A replay still waiting for its turn leaves the queue; a running one gives its slot to the next.
    this.slots.leave(this.slotKey, this);
  }
}
