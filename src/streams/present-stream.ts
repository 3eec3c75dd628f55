import type { Logger } from '../chat/logger.ts';
import { OrderedStream } from './ordered-stream.ts';
import type { TopicSink } from './topic-hubs.ts';

/** What every present stream of one service shares: passed by reference, so a stream costs its own fields only. */
export interface PresenceShared<E> {
  hubs: { detach(topic: string, sink: TopicSink<E>): void };
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
  /** Ends this subscriber's presence in the store (and announces it when it was the user's last). */
  protected abstract leavePresence(): Promise<void>;

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
