import type { ExecutionResult, GraphQLError } from 'graphql';
import { MessageType, parseMessage, stringifyMessage, type SubscribeMessage } from 'graphql-ws';
import type { EventConsumer, PipeableSource } from '../chat/event-queue.ts';
import type { Logger } from '../chat/logger.ts';
import type { RoomEvent } from '../chat/types.ts';
import { nextFramePrefix, type DeliveryEngine, type DirectTarget, type OwnArgs, type SharedShape } from '../delivery/engine.ts';
import { maskError } from '../graphql/errors.ts';
import type { YogaServer } from '../graphql/yoga.ts';
import { CloseCode } from './close-codes.ts';
import { operationArgs, parseOperation, type ParsedOperation } from './operation-args.ts';
import type { FrameInterceptor, InterceptedOperation, SocketSession } from './socket-session.ts';

/**
 * One shared subscription of one socket, served without graphql-ws's per-operation state (its message handler's
 * async frame, the raw frame and payload it keeps, a `for await` loop and envelop's iterator wrappers kept alive
 * for as long as the subscription lasts). Held by its session (`hold`) under its id; events go from the
 * room hub through `onEvent` to the socket, as frames built by the delivery engine.
 */
class DirectSubscription implements DirectTarget, EventConsumer, InterceptedOperation {
  /** Set once the subscribe handed its stream over (`takeStream`), whatever happened to it since. */
  handedOver = false;
  stream: PipeableSource | null = null;
  shape: SharedShape | null = null;
  own: OwnArgs | null = null;
  #framePrefix: string | null = null;
  /** Results that turned out to be promises (an async resolver) keep their order through this chain. */
  #tail: Promise<void> | null = null;

  constructor(
    readonly owner: DirectSubscriptions,
    readonly session: SocketSession,
    readonly id: string,
  ) {}

  /** Still this socket's operation under its id: not completed, failed, or closed with the socket. */
  get live(): boolean {
    return this.session.intercepted(this.id) === this;
  }

  takeStream(source: PipeableSource, shape: SharedShape, own: OwnArgs | null): void {
    this.handedOver = true;
    this.stream = source;
    this.shape = shape;
    this.own = own;
    // Completed by the client (or closed) while it was being set up: graphql-ws would end the stream at once, too.
    if (!this.live) return this.#stop();
    source.pipe(this);
  }

  // No `live` check per event: `complete`, a failure and the socket's close all unpipe in the tick they happen.
  onEvent(event: RoomEvent): void {
    if (!this.shape) return;
    try {
      const result = this.shape.resultFor(event, this.own);
      if (this.#tail === null && !(result instanceof Promise)) return this.#send(result);
      this.#tail = (this.#tail ?? Promise.resolve())
        .then(async () => {
          const resolved = await result;
          if (this.live) this.#send(resolved);
        })
        .catch((error: unknown) => this.#fail(error));
    } catch (error) {
      // Ends this operation with the error, not the other subscribers' delivery.
      this.#fail(error);
    }
  }

  onFailure(error: Error): void {
    if (!this.live) return this.#stop();
    this.#forget();
    this.#stop();
    // As graphql-ws sends a failed stream: one `error` message with the masked error, and the id forgotten.
    const masked = maskError(error, 'Unexpected error.') as GraphQLError;
    this.owner.log(this, 'operation failed', [masked.extensions.code]);
    this.session.send(stringifyMessage({ id: this.id, type: MessageType.Error, payload: [masked.toJSON()] }));
  }

  /** The client's `complete`. */
  complete(): void {
    this.#forget();
    this.end();
  }

  /** Completed, or the socket closed (the session has forgotten its operations then). */
  end(): void {
    if (this.stream) this.owner.log(this, 'operation complete');
    this.#stop();
  }

  /** The subscription resolved to a single result (it refused, e.g. FORBIDDEN): sent as graphql-ws sends one. */
  sendResult(result: ExecutionResult): void {
    if (!this.live) return;
    this.#forget();
    this.#send(result);
    this.owner.log(this, 'operation complete');
    this.session.send(stringifyMessage({ id: this.id, type: MessageType.Complete }));
  }

  #send(result: ExecutionResult): void {
    this.session.sendNext(this.owner.engine.frames.next((this.#framePrefix ??= nextFramePrefix(this.id)), result));
  }

  #fail(error: unknown): void {
    this.stream?.fail(error instanceof Error ? error : new Error(String(error)));
  }

  #forget(): void {
    this.session.release(this);
  }

  #stop(): void {
    const { stream, shape } = this;
    this.stream = null;
    this.shape = null;
    this.own = null;
    void stream?.return?.();
    shape?.release();
  }
}

export interface DirectSubscriptionsOptions {
  engine: DeliveryEngine;
  yoga: YogaServer;
  logger: Logger;
  maxSubscriptionsPerConnection: number;
}

/**
 * The direct path for WebSocket subscriptions whose results the delivery engine shares: the sessions' frame
 * interceptor. It takes a `subscribe` frame only when it is well-formed, acknowledged, not a duplicate, within the
 * per-connection limit, valid, and a shared subscription; and the `complete` of an operation it took. Every other
 * frame, and every case that ends in an error before the subscription starts, is left to graphql-ws.
 */
export class DirectSubscriptions implements FrameInterceptor {
  readonly engine: DeliveryEngine;
  readonly #yoga: YogaServer;
  readonly #logger: Logger;
  readonly #maxPerConnection: number;

  constructor({ engine, yoga, logger, maxSubscriptionsPerConnection }: DirectSubscriptionsOptions) {
    this.engine = engine;
    this.#yoga = yoga;
    this.#logger = logger;
    this.#maxPerConnection = maxSubscriptionsPerConnection;
  }

  take(session: SocketSession, data: string): boolean {
    const context = session.protocolContext;
    if (!context?.acknowledged) return false;
    const holdsAny = session.interceptedCount > 0;
    const maySubscribe = data.includes('"subscribe"');
    const mayShare = maySubscribe && this.engine.mayShare(data);
    // Frames that cannot concern us go to graphql-ws unparsed, so they are not parsed twice. While this socket has
    // operations here, every `complete` and `subscribe` may name one of their ids.
    if (!mayShare && !(holdsAny && (maySubscribe || data.includes('"complete"')))) return false;
    let message: ReturnType<typeof parseMessage>;
    try {
      message = parseMessage(data);
    } catch {
      return false;
    }
    if (message.type === MessageType.Complete) {
      const operation = session.intercepted(message.id);
      if (!(operation instanceof DirectSubscription)) return false;
      operation.complete();
      return true;
    }
    if (message.type !== MessageType.Subscribe) return false;
    const { id } = message;
    if (session.intercepted(id)) {
      // graphql-ws's answer to a duplicate id, word for word; the one closing path clips it (pitfalls §24).
      session.closeSocket(CloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
      return true;
    }
    if (!mayShare || id in context.subscriptions || session.operationCount() >= this.#maxPerConnection) return false;
    return this.#subscribe(session, message);
  }

  #subscribe(session: SocketSession, message: SubscribeMessage): boolean {
    const { id, payload } = message;
    const subscription = new DirectSubscription(this, session, id);
    let operation: ReturnType<typeof parseOperation>;
    try {
      operation = parseOperation(this.#yoga, session.connection.viewer, payload, subscription);
    } catch {
      // Thrown here it would escape the socket's listener; graphql-ws meets it again and answers 4500.
      return false;
    }
    if (!('enveloped' in operation) || !this.engine.shapeOf(operation.document, payload.operationName)) return false;

    // From here on as graphql-ws does it: the id is taken at once, so a `complete` or a duplicate meanwhile is seen.
    session.hold(subscription);
    this.log(subscription, 'subscribe', undefined, payload.operationName);
    this.#start(subscription, operation, message).catch((error: unknown) => {
      subscription.complete();
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
      // A shared root field whose source cannot be piped: not one this schema has.
      void result.return?.();
      throw new Error('a shared subscription did not hand over its stream');
    }
    subscription.sendResult(result);
  }

  log(subscription: DirectSubscription, what: string, codes?: unknown[], operationName?: string | null): void {
    this.#logger.debug(
      {
        ...subscription.session.ids(),
        operationId: subscription.id,
        ...(operationName ? { operationName } : {}),
        ...(codes ? { codes } : {}),
      },
      what,
    );
  }
}
