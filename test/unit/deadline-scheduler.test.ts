import { describe, expect, it, onTestFinished } from 'vitest';
import { DeadlineScheduler } from '../../src/deadline-scheduler.ts';
import { waitFor, within } from '../utils/wait.ts';

interface Item {
  name: string;
  deadlineAt: number;
  deadlineIndex: number;
  /** Date.now() when it fired. */
  firedAt?: number;
}

const item = (name: string): Item => ({ name, deadlineAt: 0, deadlineIndex: -1 });

/** A scheduler on real timers that records what fires, stopped after the test. */
function recording(onDue?: (item: Item, scheduler: DeadlineScheduler<Item>) => void) {
  const fired: Item[] = [];
  const scheduler: DeadlineScheduler<Item> = new DeadlineScheduler<Item>((due) => {
    due.firedAt = Date.now();
    fired.push(due);
    onDue?.(due, scheduler);
  });
  onTestFinished(() => scheduler.stop());
  return { scheduler, fired, names: () => fired.map((f) => f.name) };
}

/** Resolves when `at` (epoch ms) is reached on a separate plain timer: the probe for "nothing fired meanwhile". */
const reached = (at: number) => within(new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now()))), 5_000, 'probe');

describe('DeadlineScheduler', () => {
  it('fires every deadline once, in deadline order, never before it', async () => {
    const { scheduler, fired } = recording();
    const now = Date.now();
    const items = Array.from({ length: 5_000 }, (_, i) => item(`i${i}`));
    // Shuffled deadlines, many of them equal: insertion order says nothing about firing order.
    for (const [i, it] of items.entries()) scheduler.schedule(it, now + 20 + ((i * 7_919) % 150));
    expect(scheduler.size).toBe(items.length);
    await waitFor(() => fired.length === items.length, 5_000, 'every deadline');
    expect(new Set(fired).size).toBe(items.length);
    for (let i = 1; i < fired.length; i++) expect(fired[i]!.deadlineAt).toBeGreaterThanOrEqual(fired[i - 1]!.deadlineAt);
    for (const f of fired) expect(f.firedAt).toBeGreaterThanOrEqual(f.deadlineAt);
    expect(scheduler.size).toBe(0);
    expect(items.every((it) => it.deadlineIndex === -1)).toBe(true);
  });

  it('never fires a cancelled deadline, the earliest included', async () => {
    const { scheduler, fired, names } = recording();
    const now = Date.now();
    const items = Array.from({ length: 1_000 }, (_, i) => item(`i${i}`));
    for (const [i, it] of items.entries()) scheduler.schedule(it, now + 30 + ((i * 31) % 100));
    const cancelled = items.filter((_, i) => i % 3 === 0);
    for (const it of cancelled) scheduler.cancel(it);
    scheduler.cancel(cancelled[0]!); // twice: a no-op
    const last = item('last');
    scheduler.schedule(last, now + 200);
    await waitFor(() => names().includes('last'), 5_000, 'the last deadline');
    expect(fired.length).toBe(items.length - cancelled.length + 1);
    expect(fired.some((f) => cancelled.includes(f))).toBe(false);
  });

  it('re-arms for an earlier deadline added after a later one', async () => {
    const { scheduler, names } = recording();
    const late = item('late');
    scheduler.schedule(late, Date.now() + 60_000);
    scheduler.schedule(item('early'), Date.now() + 20);
    // Bounded well under the late deadline: only a re-armed timer gets here in time.
    await waitFor(() => names().includes('early'), 5_000, 'the early deadline');
    expect(names()).toEqual(['early']);
    expect(scheduler.size).toBe(1);
  });

  it('moves a scheduled item instead of adding it twice', async () => {
    const { scheduler, names } = recording();
    const moved = item('moved');
    const postponed = item('postponed');
    scheduler.schedule(moved, Date.now() + 60_000);
    scheduler.schedule(postponed, Date.now() + 10);
    scheduler.schedule(moved, Date.now() + 20);
    scheduler.schedule(postponed, Date.now() + 60_000);
    const probe = item('probe');
    scheduler.schedule(probe, Date.now() + 80);
    await waitFor(() => names().includes('probe'), 5_000, 'the probe');
    expect(names()).toEqual(['moved', 'probe']);
  });

  it('does not fire a deadline past 2^31-1 ms early, nor hand Node an overflowing delay', async () => {
    // Node clamps such a delay to 1 ms with a TimeoutOverflowWarning: the scheduler would spin on 1 ms wake-ups.
    const overflows: Error[] = [];
    const onWarning = (warning: Error) => {
      if (warning.name === 'TimeoutOverflowWarning') overflows.push(warning);
    };
    process.on('warning', onWarning);
    onTestFinished(() => {
      process.off('warning', onWarning);
    });
    const now = Date.now();
    // One scheduler each: the timer is armed for the earliest only, and each of these must be that one.
    const far = [now + 2 ** 31 - 1, now + 2 ** 31, now + 2 ** 31 + 1_000, now + 30 * 24 * 3_600_000].map((at) => {
      const { scheduler, fired } = recording();
      scheduler.schedule(item(String(at)), at);
      return fired;
    });
    // A plain timer well past the 1 ms an overflowing one would take.
    await reached(now + 100);
    expect(far.flat()).toEqual([]);
    expect(overflows).toEqual([]);
  });

  it('fires a deadline that has already passed on a later turn, not inside schedule()', async () => {
    const { scheduler, names } = recording();
    scheduler.schedule(item('past'), Date.now() - 1_000);
    expect(names()).toEqual([]);
    await waitFor(() => names().includes('past'), 5_000, 'the past deadline');
  });

  it('lets onDue schedule the same item again', async () => {
    const { scheduler, names } = recording((due, self) => {
      if (names().length < 3) self.schedule(due, Date.now() + 10);
    });
    scheduler.schedule(item('again'), Date.now() + 10);
    await waitFor(() => names().length === 3, 5_000, 'three firings');
    expect(names()).toEqual(['again', 'again', 'again']);
    expect(scheduler.size).toBe(0);
  });

  it('fires nothing once stopped, and ignores later deadlines', async () => {
    const { scheduler, fired } = recording();
    const now = Date.now();
    const pending = item('pending');
    scheduler.schedule(pending, now + 20);
    scheduler.stop();
    scheduler.schedule(item('after stop'), now + 20);
    expect(scheduler.size).toBe(0);
    expect(pending.deadlineIndex).toBe(-1);
    await reached(now + 100);
    expect(fired).toEqual([]);
  });
});
