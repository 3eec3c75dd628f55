// setTimeout fires after 1 ms for delays over 2^31-1 ms (pitfalls §18): a deadline weeks away is reached in hops.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The delay of the next timer hop towards epoch-ms `deadline`, or null when it has passed. */
export function nextHopMs(deadline: number): number | null {
  const remaining = deadline - Date.now();
  return remaining <= 0 ? null : Math.min(remaining, MAX_TIMER_MS);
}
