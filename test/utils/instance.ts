import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';
import { answersHealth } from './http-client.ts';
import { TEST_SECRET } from './tokens.ts';
import { waitFor } from './wait.ts';
import { freePort } from './free-port.ts';
import { killOnExit } from './kill-on-exit.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** A server as its own process (`node --import tsx src/main.ts`), so it can be SIGKILLed, frozen and SIGTERMed. */
export interface Instance {
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  readonly graphqlUrl: string;
  readonly wsUrl: string;
  /** Everything the process wrote, for asserting logs and for failure reports. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): void;
  freeze(): void;
  thaw(): void;
  /** SIGKILL (after SIGCONT, in case it is frozen) and wait for the exit; what teardown runs. */
  dispose(): Promise<void>;
}

export interface InstanceOptions {
  env?: Record<string, string>;
  /** Reuse a port (a restart); a free one otherwise. */
  port?: number;
  startTimeoutMs?: number;
  /**
   * Killed when the current test finishes (the default). `false` for an instance shared by a file's tests,
   * started in `beforeAll`: the caller disposes it in `afterAll`.
   */
  disposeAfterTest?: boolean;
}

/** Starts an instance and waits for `GET /health`; killed (SIGKILL, by PID) after the test, pass or fail. */
export async function startInstance({
  env = {},
  port,
  startTimeoutMs = 20_000,
  disposeAfterTest = true,
}: InstanceOptions = {}): Promise<Instance> {
  const chosenPort = port ?? (await freePort());
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      JWT_SECRET: TEST_SECRET,
      HOST: '127.0.0.1',
      PORT: String(chosenPort),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const kill = (signal: NodeJS.Signals = 'SIGKILL') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  const dispose = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
    }
  };
  if (disposeAfterTest) onTestFinished(dispose);

  const url = `http://127.0.0.1:${chosenPort}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`instance exited during start:\n${output}`);
      return answersHealth(url);
    },
    startTimeoutMs,
    `instance on port ${chosenPort} to answer /health`,
  );
  return {
    pid: child.pid as number,
    port: chosenPort,
    url,
    graphqlUrl: `${url}/graphql`,
    wsUrl: `ws://127.0.0.1:${chosenPort}/graphql`,
    output: () => output,
    exited,
    kill,
    freeze: () => kill('SIGSTOP'),
    thaw: () => kill('SIGCONT'),
    dispose,
  };
}
