/** Something that replays history once it holds a slot. */
export interface SlotHolder {
  /** Called once a slot is this holder's, possibly at once from `take`. */
  start(): void;
}

/**
 * At most `max` concurrent replays per key (a user), the rest waiting their turn in arrival order. A replay
 * holds a page of history at a time, so this bounds what one user's replays can hold at once, however many
 * subscriptions with `after` they open. A holder that ends while waiting leaves the queue (`leave`): the queue
 * never holds what is already gone. One instance per service: no module state.
 */
export class ReplaySlots {
  readonly #byKey = new Map<string, { active: Set<SlotHolder>; waiting: Set<SlotHolder> }>();

  constructor(readonly max: number) {}

  /** Starts `holder` now if `key` has a free slot, else queues it. */
  take(key: string, holder: SlotHolder): void {
    let slots = this.#byKey.get(key);
    if (!slots) this.#byKey.set(key, (slots = { active: new Set(), waiting: new Set() }));
    if (slots.active.size < this.max) {
      slots.active.add(holder);
      holder.start();
    } else {
      slots.waiting.add(holder);
    }
  }

  /** The holder's replay ended (or its stream did): frees its slot for the next in line, or leaves the queue. */
  leave(key: string, holder: SlotHolder): void {
    const slots = this.#byKey.get(key);
    if (!slots) return;
    if (slots.waiting.delete(holder)) return;
    if (!slots.active.delete(holder)) return;
    const next = slots.waiting.values().next();
    if (!next.done) {
      slots.waiting.delete(next.value);
      slots.active.add(next.value);
      next.value.start();
    } else if (slots.active.size === 0) {
      this.#byKey.delete(key);
    }
  }

  /** Replays running and waiting for `key`. */
  count(key: string): { active: number; waiting: number } {
    const slots = this.#byKey.get(key);
    return { active: slots?.active.size ?? 0, waiting: slots?.waiting.size ?? 0 };
  }
}
