import { request } from 'node:http';
import fc from 'fast-check';
import { acceptedSends, type GeneratedOperation } from './documents.ts';
import { ignoredByTriage } from './runs.ts';
import type { FuzzTarget } from './target.ts';

/** One GraphQL-over-HTTP request as a hostile client might shape it (SSE is the same endpoint with another Accept). */
export interface HttpShape {
  method: 'POST' | 'GET';
  /** `null`: no Accept header at all (Yoga then answers a subscription as SSE). */
  accept: string | null;
  contentType: string | null;
  auth: 'valid' | 'none' | 'garbage';
  user: number;
  /** How long a streaming answer is read before the client goes away (0: right after the headers). */
  readMs: number;
}

export const ACCEPTS = [
  'application/json',
  'application/graphql-response+json',
  'text/event-stream',
  'TEXT/EVENT-STREAM',
  'text/*',
  '*/*',
  'multipart/mixed',
  'application/json, text/event-stream;q=0.9',
  'text/html',
] as const;

export const httpShapeArb: fc.Arbitrary<HttpShape> = fc.record({
  method: fc.constantFrom('POST', 'POST', 'GET') as fc.Arbitrary<'POST' | 'GET'>,
  accept: fc.option(fc.constantFrom(...ACCEPTS), { nil: null, freq: 5 }),
  contentType: fc.oneof(
    { weight: 8, arbitrary: fc.constant('application/json') },
    { weight: 1, arbitrary: fc.constantFrom('application/graphql-response+json', 'text/plain', 'APPLICATION/JSON; charset=utf-8', null) },
  ),
  auth: fc.constantFrom('valid', 'valid', 'valid', 'valid', 'none', 'garbage') as fc.Arbitrary<HttpShape['auth']>,
  user: fc.nat(2),
  readMs: fc.constantFrom(0, 20, 100, 300),
});

export interface HttpOutcome {
  status: number;
  contentType: string;
  problems: string[];
}

/**
 * Sends `operation` as `shape` says, reads the answer (a streaming one for at most `readMs`, then aborts), and
 * reports what no client may ever see: a 5xx other than 503 (capacity), an internal error in the result.
 */
export async function playHttp(target: FuzzTarget, operation: GeneratedOperation, shape: HttpShape): Promise<HttpOutcome> {
  const problems: string[] = [];
  const user = target.world.users[shape.user]!;
  const headers: Record<string, string> = {};
  if (shape.accept !== null) headers.accept = shape.accept;
  if (shape.auth === 'valid') headers.authorization = `Bearer ${user.token}`;
  if (shape.auth === 'garbage') headers.authorization = 'Bearer not.a.token';
  let url = target.instance.graphqlUrl;
  let body: string | undefined;
  if (shape.method === 'GET') {
    url += `?${new URLSearchParams({ query: operation.query, variables: JSON.stringify(operation.variables) })}`;
  } else {
    if (shape.contentType !== null) headers['content-type'] = shape.contentType;
    body = JSON.stringify({ query: operation.query, variables: operation.variables });
  }
  // node:http, not fetch: fetch adds `accept: */*` when none is given, and "no Accept" is a case of its own.
  const answer = await exchange(url, shape.method, headers, body, shape.readMs);
  if ('failed' in answer) return { status: 0, contentType: '', problems: [`request failed before an answer: ${answer.failed}`] };
  const { status, contentType, text } = answer;
  target.count(`http ${status} ${contentType.split(';')[0] || 'none'} (accept ${shape.accept ?? 'missing'})`);
  if (status >= 500 && status !== 503) problems.push(`HTTP ${status} for ${shape.method} Accept ${shape.accept}: ${text.slice(0, 500)}`);
  for (const result of results(text, contentType)) {
    for (const accepted of acceptedSends(operation, result.data)) target.recordAccepted(accepted.roomId, accepted.id);
    for (const error of result.errors ?? []) {
      if (error.extensions?.code === 'INTERNAL_SERVER_ERROR' || error.message === 'Unexpected error.') {
        problems.push(`internal error answered: ${JSON.stringify(error)}`);
      }
    }
  }
  return { status, contentType, problems: problems.filter((p) => !ignoredByTriage(p)) };
}

/**
 * One request; the body is read to its end, or for `streamMs` when the answer is a stream (SSE, multipart),
 * after which the client goes away (socket destroyed). Bounded by 10 s whatever happens.
 */
function exchange(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  streamMs: number,
): Promise<{ status: number; contentType: string; text: string } | { failed: string }> {
  return new Promise((resolve) => {
    // A connection of its own (no keep-alive agent): a reused socket the server just timed out is not a finding.
    const req = request(url, {
      agent: false,
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-length': Buffer.byteLength(body) }) },
    });
    const overall = setTimeout(() => req.destroy(new Error('no complete answer within 10 s')), 10_000);
    req.on('error', (error) => {
      clearTimeout(overall);
      resolve({ failed: error.message });
    });
    req.on('response', (res) => {
      const contentType = String(res.headers['content-type'] ?? '');
      const streaming = contentType.includes('event-stream') || contentType.includes('multipart');
      let text = '';
      const finish = () => {
        clearTimeout(overall);
        clearTimeout(streamTimer);
        resolve({ status: res.statusCode ?? 0, contentType, text });
      };
      const streamTimer = streaming
        ? setTimeout(() => {
            req.destroy();
            finish();
          }, streamMs)
        : undefined;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (text.length < 1_000_000) text += chunk;
      });
      res.on('end', finish);
      res.on('error', finish);
      res.on('close', finish);
    });
    req.end(body);
  });
}

interface Result {
  data?: unknown;
  errors?: Array<{ message?: string; extensions?: { code?: string } }>;
}

/** The execution results in a body: one JSON object, or the `data:` of SSE events, or multipart parts. */
function results(text: string, contentType: string): Result[] {
  const parse = (chunk: string): Result[] => {
    try {
      const value: unknown = JSON.parse(chunk);
      return value && typeof value === 'object' && !Array.isArray(value) ? [value as Result] : [];
    } catch {
      return [];
    }
  };
  if (contentType.includes('event-stream')) {
    return text
      .split(/\r?\n\r?\n/)
      .map((block) =>
        block
          .split(/\r?\n/)
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trim())
          .join('\n'),
      )
      .filter(Boolean)
      .flatMap(parse);
  }
  if (contentType.includes('multipart')) {
    return text.split(/\r?\n---/).flatMap((part) => {
      const start = part.indexOf('{');
      return start < 0 ? [] : parse(part.slice(start).trim());
    });
  }
  return parse(text);
}
