import type { Logger } from '../chat/logger.ts';
import { OrderedStream } from './ordered-stream.ts';
import type { TopicSink } from './topic-hubs.ts';

/** What every present stream of one service shares: passed by reference, so a stream costs its own fields only. */
export interface PresenceShared<E> {
  hubs: { attach(topic: string, sink: TopicSink<E>): Promise<void>; detach(topic: string, sink: TopicSink<E>): void };
  logger: Logger;
  /** Tells the service one of its streams ended (its open count). */
  closed(): void;
  /** Presence leaves still on their way to the store; a shutdown waits for them. */
  leaving: Set<Promise<void>>;
}

/**
 * An ordered stream whose subscriber is present on its topic while it is open (a room's members, a document's
 * editors): attached to the topic's hub, joined once the store recorded it, and on its end detached and left,
 * whichever of those had happened. Rooms and documents differ only in what the presence is called.
 */
export abstract class PresentStream<E> extends OrderedStream<E> {
  /** The store recorded this subscriber present. */
  joined = false;
  /** The topic's hub delivers to this stream. */
  attached = false;

  protected abstract readonly topic: string;
  protected abstract readonly shared: PresenceShared<E>;
  /** Records this subscriber present in the store (and announces it when it is the user's first). */
  protected abstract joinPresence(): Promise<void>;
  /** Ends this subscriber's presence in the store (and announces it when it was the user's last). */
  protected abstract leavePresence(): Promise<void>;

  /**
   * Opens the stream: attached to its topic's hub, then `beforeJoin` (a check that needs the hub attached), then
   * joined, and with a cursor (`after`) live from here while `takeSlot` queues the replay for the user's turn.
   * Whatever fails ends the stream as far as it got (detached, left) and is rethrown.
   */
  async open(after: number | null, takeSlot: () => void, beforeJoin?: () => Promise<void>): Promise<void> {
    if (after !== null) this.held = [];
    try {
      await this.shared.hubs.attach(this.topic, this);
      this.attached = true;
      await beforeJoin?.();
      await this.joinPresence();
      this.markJoined();
      if (after !== null) {
        this.replayedUpTo = after;
        takeSlot();
      }
    } catch (error) {
      await this.return();
      throw error;
    }
  }

  /** The store recorded this connection: a stream that ended while the join was on its way leaves at once. */
  markJoined(): void {
    this.joined = true;
    if (this.closed) this.#leave();
  }

  protected override onClosed(): void {
    super.onClosed();
    const { hubs, closed } = this.shared;
    closed();
    if (this.attached) hubs.detach(this.topic, this);
    if (this.joined) this.#leave();
  }

  #leave(): void {
    const { logger, leaving } = this.shared;
    const leave = this.leavePresence()
      .catch((error: unknown) => logger.warn({ topic: this.topic, userId: this.slotKey, err: error }, 'presence leave failed'))
      .finally(() => leaving.delete(leave));
    leaving.add(leave);
  }
}
