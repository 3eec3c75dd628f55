import { ChatError } from './errors.ts';
import type { RoomEvent } from './types.ts';

export interface EventQueueOptions {
  /** Queued events past which ephemeral (typing) events are dropped for this reader. @default 256 */
  dropEphemeralAbove?: number;
  /**
   * Queued events past which the reader is cut off with UNAVAILABLE instead of growing memory without bound
   * (graphql-yoga #3692 crashes the process at 1,024 instead). Messages are never dropped silently.
   * @default 10_000
   */
  maxQueued?: number;
  /** Runs once when the reader finishes (return, throw or overflow). */
  onClose?: () => void;
}

export interface EventQueue extends AsyncIterableIterator<RoomEvent> {
  return(): Promise<IteratorResult<RoomEvent>>;
  push(event: RoomEvent): void;
  fail(error: Error): void;
  readonly closed: boolean;
}

/** A single-reader async queue of room events with a bound, shared by every transport. */
export function createEventQueue({
  dropEphemeralAbove = 256,
  maxQueued = 10_000,
  onClose,
}: EventQueueOptions = {}): EventQueue {
  const buffer: RoomEvent[] = [];
  let head = 0;
  let waiting: ((result: IteratorResult<RoomEvent>) => void) | null = null;
  let failWaiting: ((error: Error) => void) | null = null;
  let failure: Error | null = null;
  let closed = false;

  const size = () => buffer.length - head;
  const finish = () => {
    if (closed) return;
    closed = true;
    buffer.length = 0;
    head = 0;
    onClose?.();
  };

  const queue: EventQueue = {
    get closed() {
      return closed;
    },
    push(event) {
      if (closed || failure) return;
      if (waiting) {
        const resolve = waiting;
        waiting = failWaiting = null;
        resolve({ value: event, done: false });
        return;
      }
      if (event.kind === 'typing' && size() >= dropEphemeralAbove) return;
      if (size() >= maxQueued) {
        queue.fail(new ChatError('UNAVAILABLE', 'subscriber fell too far behind; resubscribe with `after`'));
        return;
      }
      buffer.push(event);
    },
    fail(error) {
      if (closed || failure) return;
      failure = error;
      if (failWaiting) {
        const reject = failWaiting;
        waiting = failWaiting = null;
        finish();
        reject(error);
      }
    },
    next() {
      if (size() > 0) {
        const value = buffer[head] as RoomEvent;
        head += 1;
        if (head > 1024 && head * 2 > buffer.length) {
          buffer.splice(0, head);
          head = 0;
        }
        return Promise.resolve({ value, done: false });
      }
      if (failure) {
        const error = failure;
        finish();
        return Promise.reject(error);
      }
      if (closed) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => {
        waiting = resolve;
        failWaiting = reject;
      });
    },
    return() {
      const resolve = waiting;
      waiting = failWaiting = null;
      finish();
      resolve?.({ value: undefined, done: true });
      return Promise.resolve({ value: undefined, done: true });
    },
    throw(error?: unknown) {
      void queue.return();
      return Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return queue;
    },
  };
  return queue;
}
