import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
// Last resort when a worker exits without running teardown: no spawned server outlives the test run.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** SIGKILLs `child` when this process exits, unless it has exited first. Teardown still kills it by PID. */
export function killOnExit(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}
