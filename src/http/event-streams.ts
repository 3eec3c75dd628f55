import { ServerResponse, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** A refusal as an upgrade would get it (503 instance full, 429 too many from this address). */
export interface StreamRefusal {
  status: number;
  reason: string;
  retryAfterSeconds?: number;
}

/** The connection caps, shared with WebSockets (the WebSocket edge's `ConnectionSlots`). */
export interface StreamGate {
  /** A slot for a subscription Yoga will stream, or why not. */
  admit(request: IncomingMessage): { refusal: StreamRefusal } | { release: () => void };
  /** A slot taken whatever the caps say, for a stream that was not admitted (see below). */
  hold(request: IncomingMessage): () => void;
}

export interface EventStreamAccountingOptions {
  gate: StreamGate;
  onRefused?(status: number): void;
}

/**
 * Whether Yoga may answer with an SSE stream, decided exactly as Yoga decides it (graphql-yoga
 * `plugins/result-processor/accept.ts` + `use-result-processor.ts`, not exported): a subscription is streamed as SSE
 * when any media range in Accept (missing: `*\/*`; spaces dropped, case folded, parameters other than a utf-8
 * charset ignored) matches `text/event-stream`. So `*\/*`, `text/*` and `TEXT/EVENT-STREAM` all stream (pitfalls §25).
 */
export function mayAnswerWithEventStream(accept: string | undefined): boolean {
  for (const range of (accept || '*/*').replace(/\s/g, '').toLowerCase().split(',')) {
    const [mediaType = '', ...params] = range.split(';');
    if ((params.find((param) => param.includes('charset=')) ?? 'charset=utf-8') !== 'charset=utf-8') continue;
    const [type, subtype] = mediaType.split('/');
    if ((type === '*' || type === 'text') && (subtype === '*' || subtype === 'event-stream')) return true;
  }
  return false;
}

const isNodeResponse = (value: unknown): value is ServerResponse => value instanceof ServerResponse;

/**
 * Counts SSE streams against the connection caps by what is answered, and refuses the excess before anything runs:
 * - a subscription over HTTP that Yoga will stream (`mayAnswerWithEventStream`, Yoga's own negotiation) takes a
 *   slot in the Yoga plugin's `onSubscribe`, before the subscribe resolver runs; over a cap the response is the
 *   cap's status (503 or 429) and the subscription never starts (no presence, no join). Deciding there, not on the
 *   Accept header alone, leaves queries and mutations out: a `*\/*` query at capacity is still served;
 * - when the response's headers go out, an answer that is not `text/event-stream` (e.g. a subscription refused as
 *   JSON) gives its slot back, and a stream keeps it until the response closes;
 * - a stream the negotiation did not foresee (were Yoga's rules to change) is still counted when its headers
 *   declare it, so the count stays true even if admission drifted.
 * Also counts requests in flight (those that end by themselves), which shutdown lets finish.
 */
export function createEventStreamAccounting({ gate, onRefused }: EventStreamAccountingOptions) {
  let inFlight = 0;
  // The slot a response holds, given back once (on a non-stream answer or when it closes).
  const held = new WeakMap<ServerResponse, () => void>();
  const release = (response: ServerResponse) => {
    held.get(response)?.();
    held.delete(response);
  };

  return {
    /** Requests in flight that are not streams. */
    get inFlight() {
      return inFlight;
    },

    /** Wraps every HTTP request: `next` hands it on (to the routes and Yoga). */
    handle(request: IncomingMessage, response: ServerResponse, next: () => void): void {
      inFlight += 1;
      let ending = true;
      const notInFlight = () => {
        if (ending) inFlight -= 1;
        ending = false;
      };
      response.once('close', () => {
        notInFlight();
        release(response);
      });
      onHeaders(response, (contentType) => {
        if (!contentType?.toLowerCase().startsWith('text/event-stream')) return release(response);
        // Streams never end by themselves: shutdown cuts them instead of waiting.
        notInFlight();
        if (!held.has(response)) held.set(response, gate.hold(request));
      });
      next();
    },

    /** A Yoga plugin: admits each HTTP subscription Yoga will stream, or answers the cap's status instead. */
    plugin: {
      onSubscribe({ args, setResultAndStopExecution }) {
        const { req: request, res: response } = args.contextValue as { req?: IncomingMessage; res?: unknown };
        // WebSocket operations have neither: the edge admitted their socket.
        if (!request || !isNodeResponse(response) || held.has(response)) return;
        if (!mayAnswerWithEventStream(request.headers.accept)) return;
        const admission = gate.admit(request);
        if ('release' in admission) {
          held.set(response, admission.release);
          return;
        }
        const { status, reason, retryAfterSeconds = 5 } = admission.refusal;
        onRefused?.(status);
        response
          .writeHead(status, { 'content-type': 'text/plain', 'retry-after': String(retryAfterSeconds), connection: 'close' })
          .end(`${reason}\n`);
        // Never sent (the response has ended): it only stops the subscribe resolver from running.
        setResultAndStopExecution({ errors: [new GraphQLError(reason)] });
      },
    } satisfies Plugin,
  };
}
/** Calls `listener` once with the content-type the response declared, when its headers are written. */
function onHeaders(response: ServerResponse, listener: (contentType: string | undefined) => void): void {
  const writeHead = response.writeHead;
  // An own property over the prototype's method: how Node's own `on-headers` pattern sees the moment headers go out.
  response.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    response.writeHead = writeHead;
    const headers = args.find((arg): arg is OutgoingHttpHeaders | unknown[] => typeof arg === 'object' && arg !== null);
    const declared = headers === undefined ? undefined : contentTypeIn(headers);
    const result = (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
    const fromSetHeader = response.getHeader('content-type');
    listener(declared ?? (typeof fromSetHeader === 'string' ? fromSetHeader : undefined));
    return result;
  } as ServerResponse['writeHead'];
}

function contentTypeIn(headers: OutgoingHttpHeaders | unknown[]): string | undefined {
  if (Array.isArray(headers)) {
    // Either [[name, value], ...] or a flat [name, value, name, value].
    const pairs = Array.isArray(headers[0])
      ? (headers as unknown[][])
      : headers.flatMap((_, i) => (i % 2 === 0 ? [[headers[i], headers[i + 1]]] : []));
    const pair = pairs.find(([name]) => String(name).toLowerCase() === 'content-type');
    return pair ? String(pair[1]) : undefined;
  }
  for (const [name, value] of Object.entries(headers)) if (name.toLowerCase() === 'content-type') return String(value);
  return undefined;
}
