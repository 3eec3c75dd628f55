import type { ExecutionResult } from 'graphql';
import { CompiledExecution, type EventExecutionArgs } from './compiled-execution.ts';

export type MaybePromise<T> = T | Promise<T>;

/** How results are masked before anyone sees them (Yoga's `maskedErrors`, `graphql/errors.ts`). */
export type MaskResult = (result: ExecutionResult) => ExecutionResult;

/**
 * The context of every shared execution: none. Shared shapes select no per-viewer field (`policy.ts`), and the
 * invariant test proves no other reachable resolver reads the context; should one ever do so unnoticed, it finds
 * nothing of anyone's here and fails, rather than serving one viewer's result to everybody.
 */
const NO_CONTEXT: Readonly<Record<string, never>> = Object.freeze({});

/** The subscriber-specific part of an execution: what `own` execution needs when it cannot share (see `resultFor`). */
export type OwnArgs = EventExecutionArgs;

/**
 * One shape (`shape-analysis.ts`): what every subscriber with its key shares. Executes each event once, masked,
 * remembered per event object (so subscribers still replaying history get theirs too), with the arguments of the
 * subscriber that created it, which for a shape give the same result as anyone's. Counted, and forgotten with its
 * last subscriber.
 */
export class SharedShape {
  #subscribers = 0;
  readonly #results = new WeakMap<object, MaybePromise<ExecutionResult>>();

  constructor(
    readonly key: string,
    readonly args: OwnArgs,
    readonly registry: ShapeRegistry,
  ) {}

  get subscribers(): number {
    return this.#subscribers;
  }

  /**
   * The masked result for `event`. `own` is null for a subscriber whose document is the shape's own; another
   * document (same key, other text) shares every result but one with errors, whose `locations` point into the
   * document: that one it executes itself.
   */
  resultFor(event: unknown, own: OwnArgs | null = null): MaybePromise<ExecutionResult> {
    const shared = this.#shared(event);
    if (own === null) return shared;
    if (shared instanceof Promise) return shared.then((result) => (result.errors ? this.#execute(own, event) : result));
    return shared.errors ? this.#execute(own, event) : shared;
  }

  /** The `own` arguments a subscriber with `args` keeps: null when its document is the shape's. */
  ownArgsOf(args: OwnArgs): OwnArgs | null {
    const mine = this.args;
    if (args.document === mine.document && args.operationName === mine.operationName) return null;
    const sameText = args.document.loc?.source.body !== undefined && args.document.loc.source.body === mine.document.loc?.source.body;
    if (sameText && (args.operationName ?? null) === (mine.operationName ?? null)) return null;
    return {
      schema: args.schema,
      document: args.document,
      operationName: args.operationName ?? null,
      variableValues: args.variableValues ?? null,
    };
  }

  acquire(): this {
    this.#subscribers += 1;
    return this;
  }

  release(): void {
    this.#subscribers -= 1;
    if (this.#subscribers === 0) this.registry.forget(this);
  }

  #shared(event: unknown): MaybePromise<ExecutionResult> {
    if (typeof event !== 'object' || event === null) return this.#execute(this.args, event);
    let result = this.#results.get(event);
    if (result === undefined) {
      result = this.#execute(this.args, event);
      this.#results.set(event, result);
    }
    return result;
  }

  #execute(args: OwnArgs, event: unknown): MaybePromise<ExecutionResult> {
    const { mask, execution } = this.registry;
    const result = execution.execute(args, NO_CONTEXT, event);
    return result instanceof Promise ? result.then(mask) : mask(result);
  }
}

/** The live shapes of one engine, by key: subscribers with the same key share one execution per event. */
export class ShapeRegistry {
  readonly #shapes = new Map<string, SharedShape>();

  constructor(
    readonly mask: MaskResult,
    readonly execution: CompiledExecution = new CompiledExecution(),
  ) {}

  /** The shape for `key`, created with `args` if none is live; the caller releases it when it ends. */
  join(key: string, args: OwnArgs): SharedShape {
    let shape = this.#shapes.get(key);
    if (!shape) {
      // Only what execution reads: not the transport's context of the subscriber who happened to come first.
      const own: OwnArgs = {
        schema: args.schema,
        document: args.document,
        operationName: args.operationName ?? null,
        variableValues: args.variableValues ?? null,
      };
      this.#shapes.set(key, (shape = new SharedShape(key, own, this)));
    }
    return shape.acquire();
  }

  forget(shape: SharedShape): void {
    if (this.#shapes.get(shape.key) === shape) this.#shapes.delete(shape.key);
  }

  get size(): number {
    return this.#shapes.size;
  }
}
