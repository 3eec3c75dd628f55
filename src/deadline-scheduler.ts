import { nextHopMs } from './timer-hops.ts';

/** An item with at most one pending deadline; the fields live on the item so scheduling allocates nothing. */
export interface Scheduled {
  /** Epoch ms; meaningful only while scheduled. */
  deadlineAt: number;
  /** Position in the heap, -1 when not scheduled: what makes `cancel` O(log n) instead of a scan. */
  deadlineIndex: number;
}

/**
 * Deadlines for any number of items on one timer (sockets' init timeouts and token expiries, SSE subscriptions'
 * token expiries): a min-heap by `deadlineAt` and one unref'd `setTimeout` armed for the earliest, so 10,000 sockets
 * cost one Timeout, not 10,000.
 * Adding or cancelling is O(log n). A cancelled head leaves the timer armed: it wakes, finds nothing due and re-arms
 * for the new head, which is cheaper than a clearTimeout per closing socket.
 */
export class DeadlineScheduler<T extends Scheduled> {
  readonly #heap: T[] = [];
  readonly #onDue: (item: T) => void;
  #timer: NodeJS.Timeout | null = null;
  /** When the armed timer fires (epoch ms): an earlier deadline re-arms it. */
  #timerAt = Infinity;
  #stopped = false;

  /** `onDue` runs once per deadline reached, after the item has left the heap (it may schedule it again). */
  constructor(onDue: (item: T) => void) {
    this.#onDue = onDue;
  }

  get size(): number {
    return this.#heap.length;
  }

  /** Schedules `item` at epoch ms `at`, moving it if it was already scheduled. Ignored once stopped. */
  schedule(item: T, at: number): void {
    if (this.#stopped) return;
    item.deadlineAt = at;
    if (item.deadlineIndex < 0) {
      item.deadlineIndex = this.#heap.length;
      this.#heap.push(item);
    }
    this.#siftDown(this.#siftUp(item.deadlineIndex));
    if (at < this.#timerAt) this.#arm();
  }

  cancel(item: T): void {
    if (item.deadlineIndex >= 0) this.#removeAt(item.deadlineIndex);
  }

  /** Clears the timer and forgets every deadline; nothing fires afterwards. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAt = Infinity;
    for (const item of this.#heap) item.deadlineIndex = -1;
    this.#heap.length = 0;
  }

  #arm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAt = Infinity;
    const head = this.#heap[0];
    if (!head || this.#stopped) return;
    // Hops of at most 2^31-1 ms: Node runs a longer delay after 1 ms (pitfalls §18), a wake-up every millisecond here.
    const delay = nextHopMs(head.deadlineAt) ?? 0;
    this.#timerAt = Date.now() + delay;
    this.#timer = setTimeout(this.#fire, delay);
    this.#timer.unref();
  }

  readonly #fire = (): void => {
    this.#timer = null;
    this.#timerAt = Infinity;
    const now = Date.now();
    try {
      for (let head = this.#heap[0]; head && head.deadlineAt <= now; head = this.#heap[0]) {
        this.#removeAt(0);
        this.#onDue(head);
      }
    } finally {
      // Even if `onDue` throws, the deadlines behind it must still fire.
      if (!this.#timer) this.#arm();
    }
  };

  #removeAt(index: number): void {
    const heap = this.#heap;
    const removed = heap[index];
    const last = heap.pop();
    if (removed) removed.deadlineIndex = -1;
    if (!last || last === removed) return;
    heap[index] = last;
    last.deadlineIndex = index;
    this.#siftDown(this.#siftUp(index));
  }

  /** Moves the item at `index` towards the root while it is earlier than its parent; returns where it ends. */
  #siftUp(index: number): number {
    const heap = this.#heap;
    const item = heap[index];
    if (!item) return index;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex];
      if (!parent || parent.deadlineAt <= item.deadlineAt) break;
      heap[index] = parent;
      parent.deadlineIndex = index;
      index = parentIndex;
    }
    heap[index] = item;
    item.deadlineIndex = index;
    return index;
  }

  #siftDown(index: number): void {
    const heap = this.#heap;
    const item = heap[index];
    if (!item) return;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let child = heap[left];
      let childIndex = left;
      const rightChild = heap[right];
      if (rightChild && child && rightChild.deadlineAt < child.deadlineAt) {
        child = rightChild;
        childIndex = right;
      }
      if (!child || child.deadlineAt >= item.deadlineAt) break;
      heap[index] = child;
      child.deadlineIndex = index;
      index = childIndex;
    }
    heap[index] = item;
    item.deadlineIndex = index;
  }
}
