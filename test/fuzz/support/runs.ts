import fc from 'fast-check';

/**
 * How many cases a fuzz test runs and from which seed. `npm test` runs a few dozen per test from a seed derived from
 * the test's name (the same cases every run: a red test is red again on the next run); `FUZZ_RUNS` and
 * `FUZZ_SEED` widen or move the search, `FUZZ_PATH` replays one failing case (fast-check prints seed and path).
 */
export interface FuzzParameters {
  numRuns: number;
  seed: number;
  path?: string;
  /** Shrinking replays cases against a live server that the failing case may have damaged: off unless asked. */
  endOnFailure: boolean;
  /** Stop starting new cases after this many milliseconds (long runs), so a run always ends and reports. */
  interruptAfterTimeLimit?: number;
  markInterruptAsFailure: false;
}

const env = process.env;

/** A stable 31-bit seed from a name (FNV-1a), so each test explores its own part of the space by default. */
function seedOf(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i += 1) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash & 0x7fffffff;
}

/**
 * Triage only, never in `npm test`: findings (log lines, wire problems) matching FUZZ_IGNORE (a regular
 * expression) are not counted, so a long run can look past one already reported for the next. Announced when set.
 */
const ignore = env.FUZZ_IGNORE ? new RegExp(env.FUZZ_IGNORE) : null;
if (ignore) console.warn(`[fuzz] FUZZ_IGNORE set: findings matching ${ignore} are not counted in this run`);

export const ignoredByTriage = (finding: string): boolean => ignore?.test(finding) ?? false;

export function fuzzParameters(name: string, defaultRuns: number): FuzzParameters {
  const seed = env.FUZZ_SEED !== undefined ? Number(env.FUZZ_SEED) : seedOf(name);
  const numRuns = env.FUZZ_RUNS !== undefined ? Number(env.FUZZ_RUNS) : defaultRuns;
  const timeLimitMs = env.FUZZ_TIME_LIMIT_MS !== undefined ? Number(env.FUZZ_TIME_LIMIT_MS) : undefined;
  return {
    numRuns,
    seed,
    ...(env.FUZZ_PATH ? { path: env.FUZZ_PATH } : {}),
    endOnFailure: env.FUZZ_SHRINK !== '1',
    ...(timeLimitMs !== undefined ? { interruptAfterTimeLimit: timeLimitMs } : {}),
    markInterruptAsFailure: false,
  };
}

/** Test timeout for a fuzz test: generous per case, plus the long-run wall clock when one is set. */
export function fuzzTimeout(defaultRuns: number, perCaseMs: number): number {
  const runs = env.FUZZ_RUNS !== undefined ? Number(env.FUZZ_RUNS) : defaultRuns;
  const bound = env.FUZZ_TIME_LIMIT_MS !== undefined ? Number(env.FUZZ_TIME_LIMIT_MS) + 120_000 : Infinity;
  return Math.min(60_000 + runs * perCaseMs, bound);
}

/**
 * Runs the property and, on failure, rethrows with the replay line first: the seed, the path and the
 * exact environment variables that run only the failing case again.
 */
export async function assertFuzz<Ts extends [unknown, ...unknown[]]>(
  file: string,
  name: string,
  property: fc.IAsyncPropertyWithHooks<Ts>,
  parameters: FuzzParameters,
  onReport?: (line: string) => void,
): Promise<void> {
  const details = await fc.check(property, parameters);
  const line =
    `[fuzz] ${name}: ${details.numRuns} cases, seed ${parameters.seed}` +
    (details.interrupted ? ' (stopped by FUZZ_TIME_LIMIT_MS)' : '') +
    (details.failed ? `, FAILED at path ${details.counterexamplePath}` : ', passed');
  onReport?.(line);
  // Printed for long runs (and for the record of which seeds were explored); vitest keeps it with the test.
  console.log(line);
  if (!details.failed) return;
  const replay = `FUZZ_SEED=${parameters.seed} FUZZ_PATH=${details.counterexamplePath} npx vitest run ${file} -t '${name}'`;
  const counterexample = fc.stringify(details.counterexample);
  const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  throw new Error(
    `fuzz property failed — replay with:\n  ${replay}\nseed: ${parameters.seed}, path: ${details.counterexamplePath}\n` +
      `counterexample: ${counterexample.length > 20_000 ? `${counterexample.slice(0, 20_000)}…` : counterexample}\n\n${cause}`,
  );
}
