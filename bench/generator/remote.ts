import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { spawnNode, stopProcess } from '../processes.ts';
import { REPO_ROOT } from '../servers.ts';
import type { Generator } from './generator.ts';
import type { GeneratorMethod, RpcReply, RpcRequest } from './rpc.ts';

type Params<M extends GeneratorMethod> = Parameters<Generator[M]>[0];
type Result<M extends GeneratorMethod> = Awaited<ReturnType<Generator[M]>>;

export interface RemoteGenerator {
  pid: number;
  call<M extends GeneratorMethod>(method: M, params: Params<M>, timeoutMs: number): Promise<Result<M>>;
  stop(): Promise<void>;
}

/** The generator in its own process, driven over IPC; every call is bounded by its own timeout. */
export function spawnGenerator(core: number | null, nofile?: number): RemoteGenerator {
  const child: ChildProcess = spawnNode({
    script: fileURLToPath(new URL('./worker.ts', import.meta.url)),
    cwd: REPO_ROOT,
    env: process.env,
    core,
    ipc: true,
    label: 'generator',
    ...(nofile ? { nofile } : {}),
  });
  let nextId = 0;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (raw) => {
    const reply = raw as RpcReply;
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    pending.delete(reply.id);
    if (reply.ok) waiter.resolve(reply.result);
    else waiter.reject(new Error(`generator: ${reply.error}`));
  });
  // A send after the generator died emits this instead of throwing; the calls are failed by 'exit' below.
  child.on('error', (error) => process.stderr.write(`[generator] ${error.message}\n`));
  child.once('exit', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`generator exited (${code})`));
    pending.clear();
  });
  return {
    pid: child.pid ?? -1,
    call: (method, params, timeoutMs) =>
      new Promise((resolve, reject) => {
        if (!child.connected) return reject(new Error(`generator is gone; cannot call ${method}`));
        const id = ++nextId;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`generator.${method} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as Result<typeof method>);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        child.send({ id, method, params } satisfies RpcRequest);
      }),
    async stop() {
      if (child.connected) child.disconnect();
      await stopProcess(child, 3_000);
    },
  };
}
