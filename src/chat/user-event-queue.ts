import type { UserEvent } from './types.ts';
import type { UserEventSink } from './user-hubs.ts';

const DONE: IteratorResult<UserEvent> = { value: undefined, done: true };

/**
 * One userEvents subscriber's queue: a single-reader async iterator with a bound. Past `max` queued events the
 * OLDEST is dropped: user events are hints (the room list and history are the truth, contract "Targeted
 * delivery": an overloaded subscriber may miss some), the newest are the ones a user acts on, and unlike room
 * events a drop never ends the stream. A class, not an async generator: `return()` must end an idle stream at
 * once rather than wait for the next event.
 */
export class UserEventQueue implements AsyncIterableIterator<UserEvent>, UserEventSink {
  #buffer: UserEvent[] = [];
  #resolve: ((result: IteratorResult<UserEvent>) => void) | null = null;
  #closed = false;
  /** Events dropped because the reader fell behind (for logs and tests). */
  dropped = 0;

  constructor(
    private readonly max: number,
    private readonly onClosed: () => void,
  ) {}

  deliver(event: UserEvent): void {
    if (this.#closed) return;
    const resolve = this.#resolve;
    if (resolve) {
      this.#resolve = null;
      resolve({ value: event, done: false });
      return;
    }
    if (this.#buffer.length >= this.max) {
      this.#buffer.shift();
      this.dropped += 1;
    }
    this.#buffer.push(event);
  }

  async next(): Promise<IteratorResult<UserEvent>> {
    const event = this.#buffer.shift();
    if (event) return Promise.resolve({ value: event, done: false });
    if (this.#closed) return Promise.resolve(DONE);
    return new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  async return(): Promise<IteratorResult<UserEvent>> {
    if (!this.#closed) {
      this.#closed = true;
      this.#buffer = [];
      const resolve = this.#resolve;
      this.#resolve = null;
      resolve?.(DONE);
      this.onClosed();
    }
    return Promise.resolve(DONE);
  }

  async throw(error?: unknown): Promise<IteratorResult<UserEvent>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
