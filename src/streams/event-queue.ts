// The domain's one coded error type (a leaf module): what every transport maps to `extensions.code`.
import { ChatError } from '../chat/errors.ts';

export interface EventQueueOptions {
  /** Queued events past which ephemeral (typing) events are dropped for this reader. @default 256 */
  dropEphemeralAbove?: number;
  /**
   * Queued events past which the reader is cut off with UNAVAILABLE instead of growing memory without bound
   * (graphql-yoga #3692 crashes the process at 1,024 instead). Messages are never dropped silently.
   * @default 10_000
   */
  maxQueued?: number;
}

const DONE: IteratorResult<never> = { value: undefined as never, done: true };

/** A piped stream's buffer: frozen, so an event queued by mistake would throw rather than pile up unread. */
const PIPED: never[] = Object.freeze([]) as never[];

/**
 * A synchronous reader of a piped queue (see `EventQueue.pipe`). An object with methods rather than callbacks:
 * one lives per subscription, and a class instance costs its fields where closures would cost a context each.
 */
export interface EventConsumer<E = unknown> {
  onEvent(event: E): void;
  /** The stream failed (`fail`): nothing follows. Not called when the reader itself ended it (`return`). */
  onFailure(error: Error): void;
}

/**
 * A stream that can also hand its events to a synchronous consumer instead of being read (`EventQueue.pipe`): what
 * the delivery engine's direct path takes over. Told apart by `isPipeable`, not by the shape of an object.
 */
export interface PipeableSource<E = unknown> extends AsyncIterableIterator<E> {
  pipe(consumer: EventConsumer<E>): void;
  /** Ends the stream with `error`; a piped consumer gets it through `onFailure`. */
  fail(error: Error): void;
}

/** Whether `source` (a subscription's source stream) is one of ours, and so can be piped. */
export function isPipeable(source: unknown): source is PipeableSource {
  return source instanceof StreamQueue;
}

/**
 * A single-reader async queue of a topic's events (a room's, a document's) with a bound, shared by every transport.
 * A class rather than a closure-built object: one of these lives per subscription, and its methods are then
 * shared, not copied. Subclasses say which events are ephemeral (`isEphemeral`: dropped for a slow reader).
 */
export class StreamQueue<E> implements PipeableSource<E> {
  #buffer: E[] = [];
  #head = 0;
  #resolve: ((result: IteratorResult<E>) => void) | null = null;
  #reject: ((error: Error) => void) | null = null;
  #failure: Error | null = null;
  #closed = false;
  #consumer: EventConsumer<E> | null = null;
  /** Replayed history still queued: room made for it above the bound, which is for live events only. */
  #replayed = 0;
  /** A replay waiting for the reader to take what was replayed so far (`replayTaken`). */
  #onReplayTaken: (() => void) | null = null;
  protected readonly dropEphemeralAbove: number;
  protected readonly maxQueued: number;

  constructor({ dropEphemeralAbove = 256, maxQueued = 10_000 }: EventQueueOptions = {}) {
    this.dropEphemeralAbove = dropEphemeralAbove;
    this.maxQueued = maxQueued;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Closed, or failed (the reader may still have events to read before the failure): nothing more is taken. */
  get ended(): boolean {
    return this.#closed || this.#failure !== null;
  }

  /**
   * Resolves once the reader has taken every replayed event queued so far, or the stream ended: what paces a
   * replay to its reader, a page at a time, so history is never read faster than it is read here. A piped
   * consumer takes events as they come (its transport bounds what it buffers); it is given a turn of the event
   * loop between pages, so its socket can flush them and other work runs.
   */
  replayTaken(): Promise<void> {
    if (this.#consumer) return new Promise((resolve) => setImmediate(resolve));
    if (this.#replayed === 0 || this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#onReplayTaken = resolve;
    });
  }

  /** Runs once when the reader finishes (return, throw or failure). */
  protected onClosed(): void {}

  /** Events that may be dropped for a reader that fell behind (typing, cursors); never the ordered ones. */
  protected isEphemeral(_event: E): boolean {
    return false;
  }

  /**
   * Hands every event to `consumer` as it arrives instead of queueing it for `next()`: what is queued now first,
   * in order. `next()` then only reports the end (done on return, a rejection on failure). For a consumer that
   * writes synchronously to a transport that has its own bound (a socket's unsent bytes), this skips the
   * per-event promise hops of the iterator. A failure goes to `consumer.onFailure` as well.
   */
  pipe(consumer: EventConsumer<E>): void {
    this.#consumer = consumer;
    const queued = this.#buffer.slice(this.#head);
    // Nothing is queued once piped (`#handedOver` takes every event): no array of its own for an idle stream.
    this.#buffer = PIPED;
    this.#head = 0;
    this.#replayed = 0;
    this.#replayWasTaken();
    for (const event of queued) consumer.onEvent(event);
    if (this.#failure) this.#failPiped(this.#failure);
  }

  push(event: E): void {
    if (this.#handedOver(event)) return;
    const size = this.#buffer.length - this.#head - this.#replayed;
    if (size >= this.dropEphemeralAbove && this.isEphemeral(event)) return;
    if (size >= this.maxQueued) {
      this.fail(new ChatError('UNAVAILABLE', 'subscriber fell too far behind; resubscribe with `after`'));
      return;
    }
    this.#buffer.push(event);
  }

  /**
   * Queues stored history ahead of live events. Not counted against `maxQueued`: a replay queues one page at a
   * time (see `replayTaken`), and a resume from far back must not look like a reader that fell behind.
   */
  pushReplayed(event: E): void {
    if (this.#handedOver(event)) return;
    this.#replayed += 1;
    this.#buffer.push(event);
  }

  /** Gives the event to whoever takes it now (a piped consumer, a waiting reader), or drops it once ended. */
  #handedOver(event: E): boolean {
    if (this.#closed || this.#failure) return true;
    if (this.#consumer) {
      this.#consumer.onEvent(event);
      return true;
    }
    const resolve = this.#resolve;
    if (!resolve) return false;
    this.#resolve = this.#reject = null;
    resolve({ value: event, done: false });
    return true;
  }

  /** Ends the stream with `error` once the events queued before it are read. */
  fail(error: Error): void {
    if (this.#closed || this.#failure) return;
    this.#failure = error;
    if (this.#consumer) return this.#failPiped(error);
    const reject = this.#reject;
    if (reject) {
      this.#resolve = this.#reject = null;
      this.#finish();
      reject(error);
    }
  }

  next(): Promise<IteratorResult<E>> {
    if (this.#head < this.#buffer.length) {
      const value = this.#buffer[this.#head] as E;
      this.#head += 1;
      // Replayed events sit at the front of the buffer: they are read first.
      if (this.#replayed > 0 && --this.#replayed === 0) this.#replayWasTaken();
      if (this.#head === this.#buffer.length) {
        this.#buffer = [];
        this.#head = 0;
      } else if (this.#head > 1024 && this.#head * 2 > this.#buffer.length) {
        this.#buffer.splice(0, this.#head);
        this.#head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#failure) {
      const error = this.#failure;
      this.#finish();
      return Promise.reject(error);
    }
    if (this.#closed) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  return(): Promise<IteratorResult<E>> {
    const resolve = this.#resolve;
    this.#resolve = this.#reject = null;
    this.#finish();
    resolve?.(DONE);
    return Promise.resolve(DONE);
  }

  throw(error?: unknown): Promise<IteratorResult<E>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #failPiped(error: Error): void {
    const consumer = this.#consumer;
    this.#finish();
    consumer?.onFailure(error);
  }

  #replayWasTaken(): void {
    const taken = this.#onReplayTaken;
    this.#onReplayTaken = null;
    taken?.();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#consumer = null;
    this.#buffer = [];
    this.#head = 0;
    this.#replayed = 0;
    this.#replayWasTaken();
    this.onClosed();
  }
}
