import type { RefreshClock } from '../../src/client/token-refresh.ts';

/** The timers resumable() runs on, driven by hand: `advance` fires what falls due, in order; `pending` lists what waits. */
export function fakeClock(start = 1_000_000) {
  let now = start;
  const timers = new Map<number, { at: number; callback: () => void }>();
  let next = 0;
  const clock: RefreshClock & { advance(ms: number): void; pending(): number[] } = {
    now: () => now,
    setTimeout(callback, ms) {
      next += 1;
      timers.set(next, { at: now + ms, callback });
      return next;
    },
    clearTimeout: (handle) => void timers.delete(handle as number),
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].callback();
      }
      now = end;
    },
    pending: () => [...timers.values()].map((t) => t.at - now),
  };
  return clock;
}
