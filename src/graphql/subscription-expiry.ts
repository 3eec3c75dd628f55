import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { DeadlineScheduler, type Scheduled } from '../deadline-scheduler.ts';
import type { GraphQLContext } from './context.ts';

/**
 * Ends an HTTP (SSE) subscription when its token expires, as the WebSocket edge closes a socket with 4403 then:
 * a last result with an UNAUTHENTICATED error, then the end of the stream (the client resubscribes with a fresh
 * token and `after`). WebSocket operations are skipped here: their socket already carries the expiry.
 */
export function useSubscriptionTokenExpiry(): Plugin<GraphQLContext> {
  const expiries = new DeadlineScheduler<Expiry>((expiry) => expiry.wake());
  return {
    onSubscribe({ args }) {
      const context = args.contextValue as GraphQLContext & { transport?: 'ws' };
      const viewer = context.viewer;
      if (!viewer || context.transport === 'ws') return undefined;
      return {
        onSubscribeResult({ result, setResult }) {
          if (!(Symbol.asyncIterator in result)) return;
          setResult(endAt(result[Symbol.asyncIterator](), viewer.expiresAt, expiries));
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

/** One subscription's expiry, kept on the plugin's one timer (`src/deadline-scheduler.ts`), not a Timeout each. */
interface Expiry extends Scheduled {
  wake(): void;
}

function endAt(
  source: AsyncIterator<ExecutionResult>,
  expiresAt: number,
  expiries: DeadlineScheduler<Expiry>,
): AsyncIterableIterator<ExecutionResult> {
  let state: 'live' | 'expired' | 'done' = 'live';
  const expiry: Expiry = { deadlineAt: expiresAt, deadlineIndex: -1, wake: () => undefined };
  const expired = new Promise<'expired'>((resolve) => {
    expiry.wake = () => resolve('expired');
  });
  if (expiresAt <= Date.now()) expiry.wake();
  else expiries.schedule(expiry, expiresAt);
  const finish = async (): Promise<IteratorResult<ExecutionResult>> => {
    state = 'done';
    expiries.cancel(expiry);
    await source.return?.();
    return { value: undefined, done: true };
  };
  return {
    async next() {
      if (state !== 'live') return finish();
      const step = await Promise.race([source.next(), expired]);
      if (step !== 'expired') {
        if (step.done) expiries.cancel(expiry);
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
