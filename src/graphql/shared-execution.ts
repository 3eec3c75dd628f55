import {
  Kind,
  createSourceEventStream,
  execute,
  visit,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type OperationDefinitionNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { maskResult } from './errors.ts';

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
const shapes = new WeakMap<DocumentNode, Map<string, readonly string[] | null>>();
/** Per event: the results computed for it so far, by shape key. Gone with the event. */
const resultsByEvent = new WeakMap<object, Map<string, ExecutionResult | Promise<ExecutionResult>>>();

function operationOf(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  return operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
}

/** Variables read anywhere except in the root field's own arguments; null when the operation is not shareable. */
function selectionVariables(document: DocumentNode, operationName: string | null | undefined): readonly string[] | null {
  let byOperation = shapes.get(document);
  if (!byOperation) shapes.set(document, (byOperation = new Map()));
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

function shapeKey(args: ExecutionArgs, variableNames: readonly string[]): string {
  let documentId = documentIds.get(args.document);
  if (documentId === undefined) documentIds.set(args.document, (documentId = nextDocumentId++));
  const variables = args.variableValues ?? {};
  const used = variableNames.length === 0 ? '' : JSON.stringify(variableNames.map((name) => variables[name] ?? null));
  return `${documentId}\u0000${args.operationName ?? ''}\u0000${used}`;
}

const DONE: IteratorResult<ExecutionResult> = { value: undefined, done: true };
const toStep = (value: ExecutionResult): IteratorResult<ExecutionResult> => ({ value, done: false });

/**
 * Maps source events to results. Hand-written rather than an async generator: a generator's `return()` waits
 * for a pending `next()`, so an idle subscription would stay open (and its user present) until the next event.
 * A class, since one lives per subscription.
 */
class MappedEvents implements AsyncIterableIterator<ExecutionResult> {
  constructor(
    private readonly source: AsyncIterator<unknown>,
    private readonly map: (event: unknown) => ExecutionResult | Promise<ExecutionResult>,
  ) {}

  // A `then` chain, not an async function: two fewer microtask hops per event per subscriber.
  next(): Promise<IteratorResult<ExecutionResult>> {
    return this.source.next().then((step) => {
      if (step.done) return DONE;
      const result = this.map(step.value);
      return result instanceof Promise ? result.then(toStep) : { value: result, done: false };
    });
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    await this.source.return?.();
    return DONE;
  }

  async throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
    await this.source.return?.();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

function sharedExecutor(args: ExecutionArgs, key: string) {
  return (event: unknown): ExecutionResult | Promise<ExecutionResult> => {
    if (typeof event !== 'object' || event === null) return execute({ ...args, rootValue: event });
    let results = resultsByEvent.get(event);
    if (!results) resultsByEvent.set(event, (results = new Map()));
    let result = results.get(key);
    if (result === undefined) {
      result = execute({ ...args, rootValue: event });
      results.set(key, result);
    }
    return result;
  };
}

/**
 * Put in the context by a transport that can write a `next` for this operation itself, synchronously and with
 * its own bound on unsent data (the WebSocket edge). Results then go straight from the room hub to the socket.
 */
export interface DirectDelivery {
  directDelivery?: (result: ExecutionResult) => void;
}

/** A source stream that can hand events to a synchronous consumer (`EventQueue.pipe`). */
interface Pipeable {
  pipe(consumer: (event: unknown) => void): void;
  fail(error: Error): void;
}
const isPipeable = (source: object): source is Pipeable => typeof (source as Partial<Pipeable>).pipe === 'function';

/**
 * Direct delivery: each event is executed once per shape (shared), masked once, and written by the transport;
 * the iterator handed back to graphql-ws only reports the end or a failure. Per subscriber and event this is a
 * map lookup and a socket write, not a chain of promises through every wrapper. Results that turn out to be
 * promises (an async resolver) keep their order through a per-subscriber chain.
 */
function deliverDirectly(source: AsyncIterator<unknown> & Pipeable, run: ReturnType<typeof sharedExecutor>, deliver: (result: ExecutionResult) => void) {
  let tail: Promise<void> | null = null;
  const fail = (error: unknown) => source.fail(error instanceof Error ? error : new Error(String(error)));
  source.pipe((event) => {
    try {
      const result = run(event);
      if (tail === null && !(result instanceof Promise)) return deliver(maskResult(result));
      tail = (tail ?? Promise.resolve()).then(async () => deliver(maskResult(await result))).catch(fail);
    } catch (error) {
      // Ends this operation with the error (graphql-ws sends it), not the other subscribers' delivery.
      fail(error);
    }
  });
  return new MappedEvents(source, () => {
    throw new Error('a piped stream yields no events');
  });
}

/** graphql-js `subscribe`, with per-event execution shared between subscribers of the same shape. */
export async function subscribeSharingExecution(
  args: ExecutionArgs,
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const variableNames = selectionVariables(args.document, args.operationName);
  const stream = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in stream)) return stream;
  const source = stream[Symbol.asyncIterator]();
  if (variableNames === null) {
    // Not shareable: the reference behaviour, one execution per subscriber and event.
    return new MappedEvents(source, (event) => execute({ ...args, rootValue: event }));
  }
  const run = sharedExecutor(args, shapeKey(args, variableNames));
  const deliver = (args.contextValue as DirectDelivery | undefined)?.directDelivery;
  if (deliver && isPipeable(source)) return deliverDirectly(source, run, deliver);
  return new MappedEvents(source, run);
}

/** Makes Yoga (HTTP, SSE and WebSocket alike) subscribe through `subscribeSharingExecution`. */
export function useSharedSubscriptionExecution(): Plugin {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(subscribeSharingExecution as Parameters<typeof setSubscribeFn>[0]);
    },
  };
}
