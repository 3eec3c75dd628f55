import type { ExecutionResult, GraphQLError } from 'graphql';
import { MessageType, parseMessage, stringifyMessage, type Context, type SubscribeMessage } from 'graphql-ws';
import type { Logger } from '../chat/logger.ts';
import { maskError, maskResult } from '../graphql/errors.ts';
import { isShareableSubscription, mayBeShareable, type DirectDeliveryTarget, type PipeableSource, type SharedShape } from '../graphql/shared-execution.ts';
import type { YogaServer } from '../graphql/yoga.ts';
import { operationArgs, parseOperation, type ParsedOperation } from './operation-args.ts';
import { nextFramePrefix } from './shared-frames.ts';
import type { SocketSession } from './socket-session.ts';

export type ProtocolContext = Context<Record<string, unknown>, unknown>;

const DONE: IteratorResult<never> = { value: undefined, done: true };

/**
 * One shareable subscription of one socket, served without graphql-ws's per-operation state (its message
 * handler's async frame, the raw frame and payload it keeps, a `for await` loop and envelop's iterator wrappers
 * kept alive for as long as the subscription lasts). Holds the socket, the operation id, the room stream and the
 * shared shape; events go from the room hub through `onEvent` to the socket.
 *
 * It sits in graphql-ws's own `ctx.subscriptions` under its id, where an async generator would: graphql-ws
 * still answers a duplicate id (4409), counts it, and calls `return()` on `complete` and on close.
 */
class DirectSubscription implements DirectDeliveryTarget, AsyncIterableIterator<never> {
  /** Set once the subscribe handed its stream over (`takeStream`), whatever happened to it since. */
  handedOver = false;
  stream: PipeableSource | null = null;
  shape: SharedShape | null = null;
  #framePrefix: string | null = null;
  /** Results that turned out to be promises (an async resolver) keep their order through this chain. */
  #tail: Promise<void> | null = null;

  constructor(
    readonly session: SocketSession,
    readonly context: ProtocolContext,
    readonly id: string,
  ) {}

  get live(): boolean {
    return this.context.subscriptions[this.id] === this;
  }

  takeStream(source: PipeableSource, shape: SharedShape): void {
    this.handedOver = true;
    this.stream = source;
    this.shape = shape;
    // Completed by the client while it was being set up: graphql-ws would end the stream at once, too.
    if (!(this.id in this.context.subscriptions)) return this.#end();
    this.context.subscriptions[this.id] = this;
    source.pipe(this);
  }

  // No `live` check per event: graphql-ws calls `return()` (which unpipes) in the same tick as it forgets the id.
  onEvent(event: unknown): void {
    if (!this.shape) return;
    try {
      const result = this.shape.resultFor(event);
      if (this.#tail === null && !(result instanceof Promise)) return this.#send(maskResult(result));
      this.#tail = (this.#tail ?? Promise.resolve())
        .then(async () => {
          const masked = maskResult(await result);
          if (this.live) this.#send(masked);
        })
        .catch((error: unknown) => this.#fail(error));
    } catch (error) {
      // Ends this operation with the error, not the other subscribers' delivery.
      this.#fail(error);
    }
  }

  onFailure(error: Error): void {
    if (!this.live) return this.#end();
    delete this.context.subscriptions[this.id];
    this.#end();
    // As graphql-ws sends a failed stream: one `error` message with the masked error, and the id forgotten.
    const masked = maskError(error, 'Unexpected error.') as GraphQLError;
    this.session.edge.direct.logOperation(this, 'operation failed', [masked.extensions.code]);
    this.session.send(stringifyMessage({ id: this.id, type: MessageType.Error, payload: [masked.toJSON()] }));
  }

  /** graphql-ws calls this on the client's `complete` and when the socket closes. */
  return(): Promise<IteratorResult<never>> {
    if (this.stream) this.session.edge.direct.logOperation(this, 'operation complete');
    this.#end();
    return Promise.resolve(DONE);
  }

  throw(error?: unknown): Promise<IteratorResult<never>> {
    this.#end();
    return Promise.reject(error);
  }

  next(): Promise<IteratorResult<never>> {
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The subscription resolved to a single result (it refused, e.g. FORBIDDEN): sent as graphql-ws sends one. */
  sendResult(result: ExecutionResult): void {
    if (!(this.id in this.context.subscriptions)) return;
    delete this.context.subscriptions[this.id];
    this.#send(result);
    this.session.edge.direct.logOperation(this, 'operation complete');
    this.session.send(stringifyMessage({ id: this.id, type: MessageType.Complete }));
  }

  #send(result: ExecutionResult): void {
    this.session.sendNext((this.#framePrefix ??= nextFramePrefix(this.id)), result);
  }

  #fail(error: unknown): void {
    this.stream?.fail(error instanceof Error ? error : new Error(String(error)));
  }

  #end(): void {
    const { stream, shape } = this;
    this.stream = null;
    this.shape = null;
    void stream?.return?.();
    shape?.release();
  }
}

export interface DirectSubscriptionsOptions {
  yoga: YogaServer;
  logger: Logger;
  maxSubscriptionsPerConnection: number;
}

/**
 * The direct path for WebSocket subscriptions whose results are shared (`graphql/shared-execution.ts`): it takes
 * a `subscribe` frame only when it is well-formed, acknowledged, not a duplicate, within the per-connection
 * limit, valid, and a shareable subscription. Every other frame, and every case that ends in an error before the
 * subscription starts, is left to graphql-ws, which answers it as always.
 */
export class DirectSubscriptions {
  readonly #yoga: YogaServer;
  readonly #logger: Logger;
  readonly #maxPerConnection: number;

  constructor({ yoga, logger, maxSubscriptionsPerConnection }: DirectSubscriptionsOptions) {
    this.#yoga = yoga;
    this.#logger = logger;
    this.#maxPerConnection = maxSubscriptionsPerConnection;
  }

  /** Whether it took the frame; if not, graphql-ws gets it. */
  take(session: SocketSession, data: string): boolean {
    const context = session.protocolContext;
    // Frames that cannot be a shareable subscribe go to graphql-ws unparsed, so they are not parsed twice.
    if (!context?.acknowledged || !data.includes('"subscribe"') || !mayBeShareable(data)) return false;
    let message: SubscribeMessage;
    try {
      const parsed = parseMessage(data);
      if (parsed.type !== MessageType.Subscribe) return false;
      message = parsed;
    } catch {
      return false;
    }
    const { id, payload } = message;
    if (id in context.subscriptions || Object.keys(context.subscriptions).length >= this.#maxPerConnection) return false;
    const subscription = new DirectSubscription(session, context, id);
    let operation: ReturnType<typeof parseOperation>;
    try {
      operation = parseOperation(this.#yoga, session.connection.viewer, payload, subscription);
    } catch {
      // Thrown here it would escape the socket's listener; graphql-ws meets it again and answers 4500.
      return false;
    }
    if (!('enveloped' in operation) || !isShareableSubscription(operation.document, payload.operationName)) return false;

    // From here on as graphql-ws does it: the id is taken at once, so a `complete` or a duplicate meanwhile is seen.
    context.subscriptions[id] = null;
    this.logOperation(subscription, 'subscribe', undefined, payload.operationName);
    this.#start(subscription, operation, message).catch((error: unknown) => {
      if (context.subscriptions[id] === null) delete context.subscriptions[id];
      session.failInternally(error);
    });
    return true;
  }

  async #start(subscription: DirectSubscription, operation: ParsedOperation, { payload }: SubscribeMessage): Promise<void> {
    const args = await operationArgs(operation, payload);
    const result = await args.rootValue.subscribe(args);
    // Handed over (`takeStream`): events flow from now on; what the subscribe returned is an empty stream.
    if (subscription.handedOver) return;
    if (Symbol.asyncIterator in result) {
      // A shareable root field whose source cannot be piped: not one this schema has.
      void result.return?.();
      throw new Error('a shareable subscription did not hand over its stream');
    }
    subscription.sendResult(result);
  }

  logOperation(subscription: DirectSubscription, what: string, codes?: unknown[], operationName?: string | null): void {
    const { connection } = subscription.session;
    this.#logger.debug(
      { connectionId: connection.id, userId: connection.viewer?.id, operationId: subscription.id, ...(operationName ? { operationName } : {}), ...(codes ? { codes } : {}) },
      what,
    );
  }
}
