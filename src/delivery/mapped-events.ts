import { execute, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { OwnArgs, SharedShape } from './shared-shape.ts';

const DONE: IteratorResult<ExecutionResult> = { value: undefined, done: true };
const toStep = (value: ExecutionResult): IteratorResult<ExecutionResult> => ({ value, done: false });

/**
 * Source events mapped to results, for transports that read an iterator (SSE, graphql-ws's own loop): the shape's
 * shared result, or with no shape the reference behaviour, one execution per subscriber and event with its own
 * context. Hand-written rather than an async generator: a generator's `return()` waits for a pending `next()`, so
 * an idle subscription would stay open (and its user present) until the next event. A class, one per subscription.
 */
export class MappedEvents implements AsyncIterableIterator<ExecutionResult> {
  #shape: SharedShape | null;

  constructor(
    private readonly source: AsyncIterator<unknown>,
    private readonly args: ExecutionArgs,
    shape: SharedShape | null,
    private readonly own: OwnArgs | null,
  ) {
    this.#shape = shape;
  }

  // A `then` chain, not an async function: two fewer microtask hops per event per subscriber.
  next(): Promise<IteratorResult<ExecutionResult>> {
    return this.source.next().then(
      (step) => {
        if (step.done) {
          this.#release();
          return DONE;
        }
        const result = this.#shape ? this.#shape.resultFor(step.value, this.own) : execute({ ...this.args, rootValue: step.value });
        return result instanceof Promise ? result.then(toStep) : toStep(result);
      },
      // A failed stream is not returned by its reader (`for await` does not call `return()` after a throw).
      (error: unknown) => {
        this.#release();
        throw error;
      },
    );
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    this.#release();
    await this.source.return?.();
    return DONE;
  }

  async throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
    this.#release();
    await this.source.return?.();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #release(): void {
    this.#shape?.release();
    this.#shape = null;
  }
}
