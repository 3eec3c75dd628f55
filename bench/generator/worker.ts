/**
 * The generator's own process (pinned to its own core by the orchestrator), so its CPU never competes with the
 * orchestrator's and `process.cpuUsage()` measures the generator alone.
 */
import { createGenerator } from './generator.ts';
import type { RpcReply, RpcRequest } from './rpc.ts';

const generator = createGenerator();

function reply(message: RpcReply): void {
  process.send?.(message);
}

process.on('message', (raw) => {
  const { id, method, params } = raw as RpcRequest;
  const call = generator[method] as (p: unknown) => Promise<unknown>;
  call(params).then(
    (result) => reply({ id, ok: true, result }),
    (error: unknown) => reply({ id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});

// Orphaned (the orchestrator died): exit rather than hold sockets open.
process.on('disconnect', () => {
  void generator.close().finally(() => process.exit(0));
});
