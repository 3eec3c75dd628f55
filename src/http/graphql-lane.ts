import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError, getOperationAST, type ExecutionResult } from 'graphql';
import { createGraphQLError, isAsyncIterable, processRegularResult, type GraphQLParams, type Plugin } from 'graphql-yoga';
import { getCORSHeadersByRequestAndOptions } from '@whatwg-node/server';
import { YOGA_CORS, type YogaServer } from '../graphql/yoga.ts';

/**
 * The HTTP lane: a `POST /graphql` query or mutation answered by Yoga's own operation pipeline
 * (`getResultForParams`: its onParams hooks, parse and validation caches, context, envelop's execute, its
 * onExecutionResult hooks) and Yoga's own result processor, without the Fetch-API adapter around them. The adapter
 * (a Request and a Response object per request, their header wrappers, the body read through a web stream, and the
 * promise chain of Yoga's request handler) cost about a third of a `sendMessage` over HTTP (docs/message-cost.md).
 *
 * Everything the lane does not answer goes to Yoga unchanged: decided from the headers before the body is read
 * (another method, path, content type or encoding, an Accept that Yoga would not answer with JSON, a chunked or
 * oversized body), or after it, with the body handed back through the request's `body` (which the adapter reads
 * instead of the stream): a body that is not one JSON object of the four GraphQL parameters, a query that does
 * not parse, a subscription, a document whose operation cannot be chosen. So every error the request itself can
 * cause is Yoga's answer, and the lane only answers requests whose operation runs (docs/pitfalls.md §30).
 *
 * What it stands in for is listed in `HTTP_HOOKS_STOOD_IN_FOR`; a Yoga instance with any other HTTP-level hook
 * refuses the lane at start (`assertLaneCovers`), so a plugin added later cannot be silently bypassed.
 */
export type GraphQLLane = (request: IncomingMessage, response: ServerResponse) => void;

/** Yoga's regular result processor's media types, in the order its result processor tries them. */
const REGULAR_MEDIA_TYPES = ['application/graphql-response+json', 'application/json'] as const;
type RegularMediaType = (typeof REGULAR_MEDIA_TYPES)[number];

/**
 * The media type Yoga's result processors answer a non-streamed result with, or null when Yoga would choose
 * another processor (SSE, multipart) or none (406). Yoga's `getMediaTypesForRequestInOrder` and the selection loop
 * of `useResultProcessors`, for a result that is not an async iterable: the regular processor comes last, so it
 * wins whenever one of the request's media types matches it, with the media type of its last match.
 */
export function regularMediaType(accept: string | undefined): RegularMediaType | null {
  const requested: string[] = [];
  for (const entry of (accept || '*/*').replace(/\s/g, '').toLowerCase().split(',')) {
    const [mediaType, ...params] = entry.split(';');
    if (mediaType === undefined) continue;
    const charset = params.find((param) => param.includes('charset=')) ?? 'charset=utf-8';
    if (charset === 'charset=utf-8') requested.push(mediaType);
  }
  requested.reverse();
  let chosen: RegularMediaType | null = null;
  for (const mediaType of requested) {
    const [askedPre, askedSuf] = mediaType.split('/');
    for (const offered of REGULAR_MEDIA_TYPES) {
      const [pre, suf] = offered.split('/');
      if ((askedPre === '*' || askedPre === pre) && (askedSuf === '*' || askedSuf === suf)) chosen = offered;
    }
  }
  return chosen;
}

const MAX_REMEMBERED_ACCEPTS = 64;

const PARAM_NAMES = new Set(['query', 'variables', 'operationName', 'extensions']);
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The body as Yoga's parameter checks would accept it without a word, or null (then Yoga answers). */
function paramsOf(body: Buffer): GraphQLParams | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (!isPlainObject(parsed)) return null;
  for (const key in parsed) if (!PARAM_NAMES.has(key)) return null;
  const { query, variables, operationName, extensions } = parsed;
  if (typeof query !== 'string') return null;
  if (variables != null && !isPlainObject(variables)) return null;
  if (operationName != null && typeof operationName !== 'string') return null;
  if (extensions != null && !isPlainObject(extensions)) return null;
  return parsed as GraphQLParams;
}

/** Yoga's request-level hooks, by kind, that the lane takes the place of (counted per Yoga instance). */
interface HookCounts {
  onRequest: number;
  onRequestParse: number;
  onResultProcess: number;
  onResponse: number;
}

/**
 * Each HTTP-level hook of the app's Yoga and why the lane may skip it for the requests it takes:
 * - onRequest: the health check (`/health`, another path), CORS (answers OPTIONS only; its onResponse is applied
 *   below), the unhandled-route 404 (another path), GraphiQL outside production (GET only).
 * - onRequestParse: Yoga's four request parsers (multipart is off; the lane parses a JSON body itself and hands
 *   anything else back), its method check (POST passes), its batching limit (an array is handed back) and the
 *   app's body limit (`useRequestBodyLimit`: the lane takes only a Content-Length within the limit).
 * - onResultProcess: `useResultProcessors`, whose choice for a non-streamed result `regularMediaType` reproduces.
 * - onResponse: CORS, applied with the same options (`YOGA_CORS`).
 */
const HTTP_HOOKS_STOOD_IN_FOR = (production: boolean): HookCounts => ({
  onRequest: production ? 3 : 4,
  onRequestParse: 7,
  onResultProcess: 1,
  onResponse: 1,
});

function countHooks(plugins: ReadonlyArray<Plugin<Record<string, unknown>>>): HookCounts {
  const count = (hook: keyof HookCounts) => plugins.filter((plugin) => typeof plugin[hook] === 'function').length;
  return {
    onRequest: count('onRequest'),
    onRequestParse: count('onRequestParse'),
    onResultProcess: count('onResultProcess'),
    onResponse: count('onResponse'),
  };
}

/** Throws when the Yoga instance has an HTTP-level hook the lane does not know it stands in for. */
export function assertLaneCovers(yoga: YogaServer, production: boolean): void {
  // Yoga's plugin list is a protected field: read, never changed.
  const plugins = (yoga as unknown as { plugins: ReadonlyArray<Plugin<Record<string, unknown>>> }).plugins;
  const found = countHooks(plugins);
  const expected = HTTP_HOOKS_STOOD_IN_FOR(production);
  const differs = (Object.keys(expected) as Array<keyof HookCounts>).filter((hook) => found[hook] !== expected[hook]);
  if (differs.length > 0) {
    throw new Error(
      `the HTTP lane (src/http/graphql-lane.ts) would skip Yoga hooks it does not know: ${differs
        .map((hook) => `${hook} ${found[hook]} (known ${expected[hook]})`)
        .join(', ')}; review the new plugin's HTTP hooks and HTTP_HOOKS_STOOD_IN_FOR`,
    );
  }
}

export interface GraphQLLaneOptions {
  yoga: YogaServer;
  /** The app's request body limit (`MAX_HTTP_BODY_BYTES`): larger or chunked bodies are Yoga's to refuse. */
  maxBodyBytes: number;
  production: boolean;
  /** Called for each request the lane answered itself (a metric). */
  onAnswered?: () => void;
}

type YogaServerContext = Parameters<YogaServer['getResultForParams']>[1];

type YogaInternals = {
  maskedErrorsOpts: { maskError: (error: unknown, message: string, isDev: boolean) => Error; errorMessage: string; isDev: boolean } | null;
};

export function createGraphQLLane({ yoga, maxBodyBytes, production, onAnswered }: GraphQLLaneOptions): GraphQLLane {
  assertLaneCovers(yoga, production);
  const endpoint = yoga.graphqlEndpoint;
  const { maskedErrorsOpts } = yoga as unknown as YogaInternals;

  const toYoga = (request: IncomingMessage, response: ServerResponse, body?: Buffer) => {
    // The adapter reads a request's `body` when it is set instead of its (consumed) stream.
    if (body) Object.assign(request, { body });
    void yoga(request, response);
  };

  /** What Yoga's handler answers when its pipeline throws: the error masked as `maskedErrors` says. */
  const thrown = (error: unknown): ExecutionResult => {
    if (!maskedErrorsOpts) throw error;
    const masked = maskedErrorsOpts.maskError(error, maskedErrorsOpts.errorMessage, maskedErrorsOpts.isDev);
    if (masked !== error) yoga.logger.error(error);
    return { errors: [masked instanceof GraphQLError ? masked : createGraphQLError(masked.message, { originalError: masked })] };
  };

  const answer = async (request: IncomingMessage, response: ServerResponse, body: Buffer, mediaType: RegularMediaType) => {
    const params = paramsOf(body);
    if (!params?.query) return toYoga(request, response, body);
    const fetchRequest = new yoga.fetchAPI.Request(`http://${request.headers.host ?? 'localhost'}${endpoint}`, {
      method: 'POST',
      headers: request.headers as Record<string, string>,
    });
    const serverContext = { req: request, res: response, waitUntil: (promise: Promise<unknown>) => void promise.catch(() => {}) };
    // Parse first (a hit in Yoga's cache): a syntax error, a subscription or an ambiguous operation is Yoga's.
    try {
      const document = yoga.getEnveloped({ request: fetchRequest, params, ...serverContext }).parse(params.query);
      const operation = getOperationAST(document, params.operationName ?? undefined);
      if (!operation || operation.operation === 'subscription') return toYoga(request, response, body);
    } catch {
      return toYoga(request, response, body);
    }
    let result: ExecutionResult;
    try {
      // Typed as the app's context, which Yoga's own Node handler does not pass either: `context()` adds it.
      const outcome = await yoga.getResultForParams({ params, request: fetchRequest }, serverContext as unknown as YogaServerContext);
      if (isAsyncIterable(outcome)) throw new Error('a query or mutation produced a stream');
      result = outcome as ExecutionResult;
    } catch (error) {
      result = thrown(error);
    }
    const processed = processRegularResult(result, yoga.fetchAPI, mediaType);
    const text = await processed.text();
    const headers: Record<string, string> = {};
    processed.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const cors = getCORSHeadersByRequestAndOptions(fetchRequest, YOGA_CORS);
    if (cors) for (const name in cors) headers[name.toLowerCase()] = cors[name] as string;
    headers['content-length'] = String(Buffer.byteLength(text));
    if (response.destroyed || response.writableEnded) return;
    onAnswered?.();
    response.writeHead(processed.status, processed.statusText || undefined, headers).end(text);
  };

  // Clients send one Accept for all their requests: its media type is worked out once (a few distinct values in
  // practice; any number a hostile client sends costs at most this many entries).
  const mediaTypes = new Map<string, RegularMediaType | null>();
  const mediaTypeFor = (accept: string | undefined): RegularMediaType | null => {
    if (accept === undefined) return regularMediaType(accept);
    let mediaType = mediaTypes.get(accept);
    if (mediaType === undefined) {
      if (mediaTypes.size >= MAX_REMEMBERED_ACCEPTS) mediaTypes.clear();
      mediaTypes.set(accept, (mediaType = regularMediaType(accept)));
    }
    return mediaType;
  };

  return (request, response) => {
    const mediaType = takes(request, endpoint, maxBodyBytes, mediaTypeFor);
    if (!mediaType) return toYoga(request, response);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.once('end', () => {
      answer(request, response, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks), mediaType).catch((error: unknown) => {
        yoga.logger.error(error);
        if (!response.headersSent) response.writeHead(500).end();
        else response.destroy();
      });
    });
  };
}

/** From the headers alone: the media type the lane would answer with, or null when the request is Yoga's. */
function takes(
  request: IncomingMessage,
  endpoint: string,
  maxBodyBytes: number,
  mediaTypeFor: (accept: string | undefined) => RegularMediaType | null,
): RegularMediaType | null {
  if (request.method !== 'POST' || request.url !== endpoint) return null;
  const { headers } = request;
  // Yoga's JSON parser matches on the first content type of a list; the lane takes the plain spellings only.
  const contentType = headers['content-type'];
  if (contentType !== 'application/json' && contentType !== 'application/json; charset=utf-8') return null;
  if (headers['content-encoding'] !== undefined || headers['transfer-encoding'] !== undefined) return null;
  const length = headers['content-length'];
  if (length === undefined || !/^\d+$/.test(length) || Number(length) === 0 || Number(length) > maxBodyBytes) return null;
  return mediaTypeFor(headers.accept);
}
