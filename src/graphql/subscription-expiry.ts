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
  const expiries = new DeadlineScheduler<Expirable>((stream) => stream.expire());
  return {
    onSubscribe({ args }) {
      const context = args.contextValue as GraphQLContext & { transport?: 'ws' };
      const viewer = context.viewer;
      if (!viewer || context.transport === 'ws') return undefined;
      return {
        onSubscribeResult({ result, setResult }) {
          if (!(Symbol.asyncIterator in result)) return;
          setResult(new ExpiringStream(result[Symbol.asyncIterator](), viewer.expiresAt, expiries));
        },
      };
    },
  };
}

const expiredResult = (): ExecutionResult => ({
  errors: [new GraphQLError('token expired: subscribe again with a fresh token', { extensions: { code: 'UNAUTHENTICATED' } })],
});

const DONE: IteratorResult<ExecutionResult> = { value: undefined, done: true };

/** What the plugin's scheduler holds: one per open SSE subscription. */
export interface Expirable extends Scheduled {
  expire(): void;
}

interface Pending {
  resolve(step: IteratorResult<ExecutionResult>): void;
  reject(error: unknown): void;
}

/**
 * A subscription's result stream, ended at its token's expiry: a last result with UNAUTHENTICATED, then done.
 *
 * The expiry wakes the one pending `next()` directly (pitfalls §28). Racing each `source.next()` against one
 * long-lived "expired" promise would add a reaction to that promise per event, each holding its event's result
 * until the token expires. Here each call's own promise and resolver are the only links, dropped as it settles.
 * The deadline leaves the plugin's scheduler as soon as the stream ends, however it ends (done, return, throw, a
 * failing source), so a failed subscription is not kept alive until its token would have expired.
 * A class, on the plugin's one timer (`src/deadline-scheduler.ts`), not a Timeout and closures per subscription.
 */
export class ExpiringStream implements AsyncIterableIterator<ExecutionResult>, Expirable {
  deadlineAt = 0;
  deadlineIndex = -1;
  /** `expiring`: the deadline passed and the UNAUTHENTICATED result is still to be read. */
  #state: 'live' | 'expiring' | 'done' = 'live';
  #pending: Pending | null = null;

  constructor(
    private readonly source: AsyncIterator<ExecutionResult>,
    expiresAt: number,
    private readonly expiries: DeadlineScheduler<Expirable>,
  ) {
    if (expiresAt <= Date.now()) this.#state = 'expiring';
    else expiries.schedule(this, expiresAt);
  }

  /** The deadline: the pending read (if any) gets the UNAUTHENTICATED result now, the next read otherwise. */
  expire(): void {
    if (this.#state !== 'live') return;
    const pending = this.#pending;
    if (!pending) {
      this.#state = 'expiring';
      return;
    }
    this.#pending = null;
    void this.#end();
    pending.resolve({ value: expiredResult(), done: false });
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    if (this.#state === 'expiring') {
      void this.#end();
      return Promise.resolve({ value: expiredResult(), done: false });
    }
    if (this.#state === 'done') return Promise.resolve(DONE);
    // One read at a time (as Yoga and graphql-ws read): a second waits for the first instead of racing it.
    if (this.#pending) return new Promise<void>((resolve) => this.#afterPending(resolve)).then(() => this.next());
    return new Promise<IteratorResult<ExecutionResult>>((resolve, reject) => {
      const pending: Pending = { resolve, reject };
      this.#pending = pending;
      this.source.next().then(
        (step) => {
          // Superseded (expired, returned): that read was answered already; this step is the source's end.
          if (this.#pending !== pending) return;
          this.#pending = null;
          if (step.done) this.#stop();
          pending.resolve(step);
        },
        (error: unknown) => {
          if (this.#pending !== pending) return;
          this.#pending = null;
          this.#stop();
          pending.reject(error);
        },
      );
    });
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    const pending = this.#pending;
    this.#pending = null;
    const ended = this.#end();
    pending?.resolve(DONE);
    await ended;
    return DONE;
  }

  async throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
    await this.return();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #afterPending(then: () => void): void {
    const pending = this.#pending as Pending;
    const { resolve, reject } = pending;
    pending.resolve = (step) => {
      resolve(step);
      then();
    };
    pending.reject = (error) => {
      reject(error);
      then();
    };
  }

  /** Done: forgets the deadline. */
  #stop(): void {
    this.#state = 'done';
    this.expiries.cancel(this);
  }

  /** Done, and the source ended too (expiry, return). */
  async #end(): Promise<void> {
    if (this.#state === 'done') return;
    this.#stop();
    await this.source.return?.();
  }
}
