import { createSourceEventStream, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { isPipeable, type PipeableSource } from '../chat/event-queue.ts';
import { CompiledExecution, type CompiledExecutionOptions } from './compiled-execution.ts';
import { FrameBuilder, type FrameBuilderOptions } from './frames.ts';
import { MappedEvents } from './mapped-events.ts';
import type { DeliveryPolicy } from './policy.ts';
import { analyzeOperation, shapeKey, type OperationShape } from './shape-analysis.ts';
import { ShapeRegistry, type MaskResult, type OwnArgs, type SharedShape } from './shared-shape.ts';

/**
 * A transport that writes results itself, synchronously and with its own bound on unsent data (the WebSocket
 * direct path). Put in the operation's context under `directDelivery`; a shared subscription then hands it its
 * source stream and shape instead of returning a result stream: events go from the room hub to the socket with no
 * per-subscriber iterator, promise or wrapper in between.
 */
export interface DirectTarget {
  /** `own`: see `SharedShape.resultFor`. The target releases `shape` when the subscription ends. */
  takeStream(source: PipeableSource, shape: SharedShape, own: OwnArgs | null): void;
}

/** What a transport adds to an operation's initial context to receive streams directly. */
export interface DirectDeliveryContext {
  directDelivery?: DirectTarget;
}

export interface DeliveryEngineOptions extends FrameBuilderOptions, CompiledExecutionOptions {
  /** The schema every operation runs against (Yoga's). */
  schema: GraphQLSchema;
  /** Masks a result's errors as every transport masks them. */
  mask: MaskResult;
  /** What may be shared (`CHAT_DELIVERY_POLICY` for this schema). */
  policy: DeliveryPolicy;
}

type SubscribeResult = AsyncIterableIterator<ExecutionResult> | ExecutionResult;

const DONE: IteratorResult<ExecutionResult> = { value: undefined, done: true };

/** What a subscribe whose stream went to a `DirectTarget` returns: nothing more comes through it. */
const HANDED_OVER: AsyncIterableIterator<ExecutionResult> = Object.freeze({
  next: () => Promise.resolve(DONE),
  return: () => Promise.resolve(DONE),
  throw: (error?: unknown) => Promise.reject(error),
  [Symbol.asyncIterator]() {
    return this;
  },
});

/**
 * Shared delivery, one instance per app (`createDeliveryEngine`), no module state: shape analysis (is a
 * subscription context-free, and what is its key), the registry of live shapes (subscribers with one key share one
 * execution per event), the per-event result memo (in each shape), the compiled form of hot documents
 * (`compiled-execution.ts`), and frame building (`frames`).
 *
 * Everything that makes a subscriber different (the token, private-room access, presence, the `after` replay)
 * happens in the root field's `subscribe`, which still runs once per subscriber. After that a shared result
 * depends only on the event (one object for every local subscriber of a room, from the room hub) and the key.
 */
export class DeliveryEngine {
  readonly frames: FrameBuilder;
  readonly policy: DeliveryPolicy;
  readonly #schema: GraphQLSchema;
  readonly #registry: ShapeRegistry;
  readonly #perViewer: ReadonlySet<string>;
  readonly #rootNames: readonly string[];
  /** Per document and operation name: its shape, or null when it is not shared. */
  readonly #shapes = new WeakMap<DocumentNode, Map<string, OperationShape | null>>();

  constructor({ schema, mask, policy, compileAfter, ...frames }: DeliveryEngineOptions) {
    this.#schema = schema;
    this.policy = policy;
    this.#registry = new ShapeRegistry(mask, new CompiledExecution({ compileAfter }));
    this.#perViewer = new Set(policy.perViewerFields);
    this.#rootNames = Object.keys(policy.sharedRoots);
    this.frames = new FrameBuilder(frames);
  }

  /**
   * False when `text` (a query, or a frame carrying one) cannot hold a shared operation: no shared root field is
   * named in it. Lets a transport skip the parse for everything else (names in GraphQL cannot be escaped).
   */
  mayShare(text: string): boolean {
    for (const name of this.#rootNames) if (text.includes(name)) return true;
    return false;
  }

  /** The operation's shape, or null when its results are not shared (computed once per document). */
  shapeOf(document: DocumentNode, operationName: string | null | undefined): OperationShape | null {
    let byName = this.#shapes.get(document);
    if (!byName) this.#shapes.set(document, (byName = new Map()));
    const name = operationName ?? '';
    let shape = byName.get(name);
    if (shape === undefined) {
      shape = analyzeOperation(this.#schema, this.policy, this.#perViewer, document, operationName);
      byName.set(name, shape);
    }
    return shape;
  }

  /** Live shapes (for tests and diagnostics). */
  get liveShapes(): number {
    return this.#registry.size;
  }

  /**
   * graphql-js `subscribe`, sharing per-event execution between subscribers of one shape: Yoga's subscribe
   * function for every transport (`graphql/shared-execution.ts`). Shapeless operations (per-viewer fields, other
   * root fields) get one execution per subscriber and event, with their own context.
   */
  readonly subscribe = async (args: ExecutionArgs): Promise<SubscribeResult> => {
    const shape = this.shapeOf(args.document, args.operationName);
    const stream = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in stream)) return stream;
    const source = stream[Symbol.asyncIterator]();
    const key = shape === null ? null : shapeKey(this.#schema, shape, args.variableValues);
    if (key === null) return new MappedEvents(source, args, null, null);
    const shared = this.#registry.join(key, args);
    const own = shared.ownArgsOf(args);
    const target = (args.contextValue as DirectDeliveryContext | undefined)?.directDelivery;
    if (target && isPipeable(source)) {
      target.takeStream(source, shared, own);
      return HANDED_OVER;
    }
    return new MappedEvents(source, args, shared, own);
  };
}

export function createDeliveryEngine(options: DeliveryEngineOptions): DeliveryEngine {
  return new DeliveryEngine(options);
}

export type { OwnArgs, SharedShape } from './shared-shape.ts';
export type { OperationShape } from './shape-analysis.ts';
export { nextFramePrefix } from './frames.ts';
export { CHAT_DELIVERY_POLICY, type DeliveryPolicy } from './policy.ts';
