import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { killOnExit } from '../utils/kill-on-exit.ts';
import { waitFor, within } from '../utils/wait.ts';

// How readme-snippets.test.ts runs what the README tells a user to type: bash in a folder of the workspace, with
// a user's environment (no NODE_ENV=test, no vitest variables), each command in a process group of its own that is
// killed by its id when the test ends.

/**
 * PATH and HOME as a shell has them, plus npm settings given through its environment rather than by changing the
 * README's commands: prefer the cache (it holds these tarballs from the repository's own install, so an install
 * works offline and fast; the registry is still asked for what is missing), and no audit, fund or update banner.
 */
export const userEnv = (): Record<string, string> => ({
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '/root',
  npm_config_prefer_offline: 'true',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
});

function killGroup(pid: number | undefined) {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is gone
  }
}

export interface ShellResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** bash in its own process group (so everything it starts can be killed at once), with what it printed so far. */
function spawnBash(args: string[], cwd: string) {
  const child = spawn('bash', args, { cwd, env: userEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = (once(child, 'exit') as Promise<[number | null]>).then(([code]) => code);
  return { pid: child.pid, exited, exitCode: () => child.exitCode, stdout: () => stdout, stderr: () => stderr };
}

/** Runs `script` with `bash -eo pipefail` in `cwd`; the whole process group is killed after `timeoutMs`. */
export async function runShell(script: string, cwd: string, timeoutMs: number): Promise<ShellResult> {
  const bash = spawnBash(['-eo', 'pipefail', '-c', script], cwd);
  try {
    const code = await within(bash.exited, timeoutMs, `bash in ${cwd}: ${script.split('\n')[0] ?? ''}`);
    return { code, stdout: bash.stdout(), stderr: bash.stderr() };
  } finally {
    killGroup(bash.pid);
  }
}

/** A long-running program the README starts (`npx tsx watch-room.ts`), with what it printed so far. */
export interface App {
  /** stdout, line by line. */
  lines(): string[];
  stderr(): string;
  /** The exit code once it has exited (a signal: null). */
  readonly exited: Promise<number | null>;
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
}

/** Starts `command` (the README's start line, unchanged) in `workspace/dir` with `args` appended; killed after the test. */
export function startApp(workspace: string, dir: string, command: string, args: string[]): App {
  const bash = spawnBash(['-c', `${command} "$@"`, 'bash', ...args], join(workspace, dir));
  const { exited, stdout, stderr } = bash;
  onTestFinished(async () => {
    killGroup(bash.pid);
    await within(exited, 5_000, `${command} to exit`).catch(() => undefined);
  });
  const lines = () =>
    stdout()
      .split('\n')
      .filter((line) => line !== '');
  return {
    lines,
    stderr,
    exited,
    async waitForLine(pattern, timeoutMs) {
      let found: RegExpExecArray | null = null;
      await waitFor(
        () => {
          if (bash.exitCode() !== null)
            throw new Error(`${command} ${args.join(' ')} exited ${bash.exitCode()}:\n${stdout()}\n${stderr()}`);
          found =
            lines()
              .map((line) => pattern.exec(line))
              .find((match) => match !== null) ?? null;
          return found !== null;
        },
        timeoutMs,
        `${command} to print ${pattern} (stdout so far:\n${stdout()}\nstderr:\n${stderr()})`,
      );
      return found as unknown as RegExpExecArray;
    },
  };
}
