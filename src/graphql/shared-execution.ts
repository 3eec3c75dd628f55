import {
  Kind,
  createSourceEventStream,
  execute,
  getVariableValues,
  visit,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type OperationDefinitionNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Execute-once delivery. graphql-js executes a subscription's selection set once per subscriber per event; here
 * subscribers whose operations are the same shape share one execution per event, and so one result object
 * (which the WebSocket edge then serializes once, see `ws/shared-frames.ts`).
 *
 * What may be shared is decided at subscribe time: everything that makes a subscriber different — the token,
 * private-room access, presence, the `after` replay — happens in the root field's `subscribe` resolver, which
 * still runs once per subscriber. After that, a result depends only on the event (the same object for every local
 * subscriber of a room, from the room hub), the document, the operation name, and the variables that the
 * selection set itself reads. That holds for this schema because no field reachable from an event reads the
 * context (the viewer); `SHAREABLE_ROOT_FIELDS` lists the root fields for which that was checked.
 */
const SHAREABLE_ROOT_FIELDS = new Set(['roomEvents']);

const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 0;
/** Per document and operation: the variable names read below the root field (null: not shareable). */
const selectionVariablesByDocument = new WeakMap<DocumentNode, Map<string, readonly string[] | null>>();

function operationOf(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  return operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
}

/** Variables read anywhere except in the root field's own arguments; null when the operation is not shareable. */
function selectionVariables(document: DocumentNode, operationName: string | null | undefined): readonly string[] | null {
  let byOperation = selectionVariablesByDocument.get(document);
  if (!byOperation) selectionVariablesByDocument.set(document, (byOperation = new Map()));
  const cacheKey = operationName ?? '';
  const cached = byOperation.get(cacheKey);
  if (cached !== undefined) return cached;

  const operation = operationOf(document, operationName);
  const roots = operation?.selectionSet.selections ?? [];
  const root = roots[0];
  let result: readonly string[] | null = null;
  if (
    operation &&
    roots.length === 1 &&
    root?.kind === Kind.FIELD &&
    SHAREABLE_ROOT_FIELDS.has(root.name.value) &&
    !document.definitions.some((d) => d.kind === Kind.FRAGMENT_DEFINITION)
  ) {
    const names = new Set<string>();
    // Directives on the root field (e.g. @include(if: $x)) and everything below it shape the result.
    visit({ ...root, arguments: [] }, { Variable: (node) => void names.add(node.name.value) });
    result = [...names].sort();
  }
  byOperation.set(cacheKey, result);
  return result;
}

/**
 * The key of a subscriber's shape, or null when its variables do not coerce (it must not share anything). Keyed on
 * the coerced values, as execution sees them, not on what the client sent: an explicit `null` and an omitted
 * variable with a default are different executions (`$full: Boolean = true` gives `true` for one and an error at
 * `@include(if: $full)` for the other), while `5` and `"5"` for an ID are the same one. An absent value (no default,
 * not sent) is kept apart from `null` too: graphql-js reports the two differently.
 */
function shapeKey(args: ExecutionArgs, variableNames: readonly string[]): string | null {
  let documentId = documentIds.get(args.document);
  if (documentId === undefined) documentIds.set(args.document, (documentId = nextDocumentId++));
  let used = '';
  if (variableNames.length > 0) {
    const operation = operationOf(args.document, args.operationName);
    if (!operation) return null;
    const coercion = getVariableValues(args.schema, operation.variableDefinitions ?? [], args.variableValues ?? {}, { maxErrors: 1 });
    if (coercion.errors) return null;
    const { coerced } = coercion;
    // `[value]` when present, `[]` when absent: JSON would turn an absent value in a plain array into null.
    used = JSON.stringify(variableNames.map((name) => (Object.hasOwn(coerced, name) ? [coerced[name]] : [])));
  }
  return `${documentId}\u0000${args.operationName ?? ''}\u0000${used}`;
}

/**
 * False when `text` (a query, or a frame carrying one) cannot hold a shareable operation: no shareable root field
 * is named in it. Lets a transport skip the parse for everything else (names in GraphQL cannot be escaped).
 */
export function mayBeShareable(text: string): boolean {
  for (const field of SHAREABLE_ROOT_FIELDS) if (text.includes(field)) return true;
  return false;
}

/**
 * Whether a WebSocket operation can take the direct path: a subscription whose results may be shared. Decided
 * from the document alone, before anything is subscribed.
 */
export function isShareableSubscription(document: DocumentNode, operationName: string | null | undefined): boolean {
  return operationOf(document, operationName)?.operation === 'subscription' && selectionVariables(document, operationName) !== null;
}

/**
 * One operation shape: what every subscriber of it shares. Executes each event once (remembered per event
 * object, so subscribers still replaying history get theirs too) with the arguments of the subscriber that
 * created it, which for a shareable shape give the same result as anyone's. Counted, and forgotten with its
 * last subscriber.
 */
export class SharedShape {
  #subscribers = 0;
  readonly #results = new WeakMap<object, ExecutionResult | Promise<ExecutionResult>>();

  constructor(
    readonly key: string,
    readonly args: ExecutionArgs,
  ) {}

  resultFor(event: unknown): ExecutionResult | Promise<ExecutionResult> {
    if (typeof event !== 'object' || event === null) return execute({ ...this.args, rootValue: event });
    let result = this.#results.get(event);
    if (result === undefined) {
      result = execute({ ...this.args, rootValue: event });
      this.#results.set(event, result);
    }
    return result;
  }

  static acquire(args: ExecutionArgs, key: string): SharedShape {
    let shape = liveShapes.get(key);
    if (!shape) {
      // Only what execution reads: not the transport's hooks of the subscriber who happened to come first.
      const { directDelivery: _direct, ...contextValue } = (args.contextValue ?? {}) as DirectDelivery & Record<string, unknown>;
      liveShapes.set(key, (shape = new SharedShape(key, { ...args, contextValue })));
    }
    shape.#subscribers += 1;
    return shape;
  }

  release(): void {
    this.#subscribers -= 1;
    if (this.#subscribers === 0 && liveShapes.get(this.key) === this) liveShapes.delete(this.key);
  }
}

const liveShapes = new Map<string, SharedShape>();

const DONE: IteratorResult<ExecutionResult> = { value: undefined, done: true };
const toStep = (value: ExecutionResult): IteratorResult<ExecutionResult> => ({ value, done: false });

/**
 * Maps source events to results. Hand-written rather than an async generator: a generator's `return()` waits
 * for a pending `next()`, so an idle subscription would stay open (and its user present) until the next event.
 * A class, since one lives per subscription.
 */
class MappedEvents implements AsyncIterableIterator<ExecutionResult> {
  #shape: SharedShape | null;

  constructor(
    private readonly source: AsyncIterator<unknown>,
    private readonly args: ExecutionArgs,
    shape: SharedShape | null,
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
        const result = this.#shape ? this.#shape.resultFor(step.value) : execute({ ...this.args, rootValue: step.value });
        return result instanceof Promise ? result.then(toStep) : { value: result, done: false };
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

/** A source stream that hands events to a synchronous consumer (`EventQueue.pipe`). */
export interface PipeableSource extends AsyncIterator<unknown> {
  pipe(consumer: { onEvent(event: unknown): void; onFailure(error: Error): void }): void;
  fail(error: Error): void;
}
const isPipeable = (source: object): source is PipeableSource => typeof (source as Partial<PipeableSource>).pipe === 'function';

/**
 * Put in the context by a transport that writes results itself, synchronously and with its own bound on unsent
 * data (the WebSocket edge). A shareable subscription then hands it its source stream and shape instead of
 * returning a result stream: events go from the room hub to the socket with no per-subscriber iterator, promise
 * or wrapper in between. (The subscription's own result, when it is not a stream, is returned as usual.)
 */
export interface DirectDeliveryTarget {
  takeStream(source: PipeableSource, shape: SharedShape): void;
}
export interface DirectDelivery {
  directDelivery?: DirectDeliveryTarget;
}

/** What a subscribe whose stream went to a `DirectDeliveryTarget` returns: nothing more comes through it. */
const HANDED_OVER: AsyncIterableIterator<ExecutionResult> = {
  next: () => Promise.resolve(DONE),
  return: () => Promise.resolve(DONE),
  throw: (error?: unknown) => Promise.reject(error),
  [Symbol.asyncIterator]() {
    return this;
  },
};

/** graphql-js `subscribe`, with per-event execution shared between subscribers of the same shape. */
export async function subscribeSharingExecution(
  args: ExecutionArgs,
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const variableNames = selectionVariables(args.document, args.operationName);
  const stream = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in stream)) return stream;
  const source = stream[Symbol.asyncIterator]();
  // Not shareable: the reference behaviour, one execution per subscriber and event.
  const key = variableNames === null ? null : shapeKey(args, variableNames);
  if (key === null) return new MappedEvents(source, args, null);
  const shape = SharedShape.acquire(args, key);
  const target = (args.contextValue as DirectDelivery | undefined)?.directDelivery;
  if (target && isPipeable(source)) {
    target.takeStream(source, shape);
    return HANDED_OVER;
  }
  return new MappedEvents(source, args, shape);
}

/** Makes Yoga (HTTP, SSE and WebSocket alike) subscribe through `subscribeSharingExecution`. */
export function useSharedSubscriptionExecution(): Plugin {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(subscribeSharingExecution as Parameters<typeof setSubscribeFn>[0]);
    },
  };
}
