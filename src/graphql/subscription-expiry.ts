import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { nextHopMs } from '../timer-hops.ts';
import type { GraphQLContext } from './context.ts';

/**
 * Ends an HTTP (SSE) subscription when its token expires, as the WebSocket edge closes a socket with 4403 then:
 * a last result with an UNAUTHENTICATED error, then the end of the stream (the client resubscribes with a fresh
 * token and `after`). WebSocket operations are skipped here: their socket already carries the expiry.
 */
export function useSubscriptionTokenExpiry(): Plugin<GraphQLContext> {
  return {
    onSubscribe({ args }) {
      const context = args.contextValue as GraphQLContext & { transport?: 'ws' };
      const viewer = context.viewer;
      if (!viewer || context.transport === 'ws') return undefined;
      return {
        onSubscribeResult({ result, setResult }) {
          if (!(Symbol.asyncIterator in result)) return;
          setResult(endAt(result[Symbol.asyncIterator](), viewer.expiresAt));
        },
      };
    },
  };
}

const expiredResult = (): ExecutionResult => ({
  errors: [
    new GraphQLError('token expired: subscribe again with a fresh token', { extensions: { code: 'UNAUTHENTICATED' } }),
  ],
});

function endAt(source: AsyncIterator<ExecutionResult>, expiresAt: number): AsyncIterableIterator<ExecutionResult> {
  let timer: NodeJS.Timeout | undefined;
  let state: 'live' | 'expired' | 'done' = 'live';
  let wake: (() => void) | undefined;
  const expiry = new Promise<'expired'>((resolve) => {
    wake = () => resolve('expired');
  });
  const arm = () => {
    const delay = nextHopMs(expiresAt);
    if (delay === null) return wake?.();
    timer = setTimeout(arm, delay);
    timer.unref();
  };
  arm();
  const finish = async (): Promise<IteratorResult<ExecutionResult>> => {
    state = 'done';
    clearTimeout(timer);
    await source.return?.();
    return { value: undefined, done: true };
  };
  return {
    async next() {
      if (state !== 'live') return finish();
      const step = await Promise.race([source.next(), expiry]);
      if (step !== 'expired') {
        if (step.done) clearTimeout(timer);
        return step;
      }
      state = 'expired';
      return { value: expiredResult(), done: false };
    },
    return: finish,
    async throw(error?: unknown) {
      await finish();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
