import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { gql, type GraphQLResponse } from '../utils/http-client.ts';
import { startTestApp, type TestApp } from '../utils/test-app.ts';
import { connectAuthed } from '../utils/ws-client.ts';
import { startBystander, token } from './helpers.ts';

const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
const directives = (n: number) => `{ me { id ${'@include(if: true) '.repeat(n)} } }`;

/** The same operation over the three transports; each answer is a GraphQL result. */
async function overHttp(app: TestApp, query: string): Promise<GraphQLResponse> {
  return gql(app.graphqlUrl, query, {}, await token('mallory'));
}

async function overSse(app: TestApp, query: string): Promise<GraphQLResponse> {
  const response = await fetch(app.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${await token('mallory')}` },
    body: JSON.stringify({ query }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  const data = text.split('\n').find((line) => line.startsWith('data: {'));
  if (!data) throw new Error(`no SSE data event in ${text.slice(0, 300)}`);
  return JSON.parse(data.slice('data: '.length)) as GraphQLResponse;
}

function overWs(app: TestApp) {
  let socket: Promise<Awaited<ReturnType<typeof connectAuthed>>> | null = null;
  let sequence = 0;
  return async (query: string): Promise<GraphQLResponse> => {
    socket ??= token('mallory').then((t) => connectAuthed(app.wsUrl, t));
    const client = await socket;
    const id = `op${++sequence}`;
    client.subscribe(id, query);
    const answer = await client.waitFor((m) => m.id === id && (m.type === 'error' || m.type === 'next'));
    // graphql-ws: an operation refused before execution gets an `error` message with the bare error list.
    return answer.type === 'error' ? { errors: answer.payload } : answer.payload;
  };
}

const codes = (response: GraphQLResponse) => [...new Set((response.errors ?? []).map((e) => e.extensions?.code))];
const messages = (response: GraphQLResponse) => (response.errors ?? []).map((e) => e.message).join('\n');

describe('GraphQL abuse: the same limits over HTTP, SSE and WebSocket; an error for that operation, the socket stays open', () => {
  // 10,000 aliases are 160 kB of query text: above the default frame limit, so this app allows 1 MB frames.
  const env = { MAX_PAYLOAD_BYTES: String(1024 * 1024) };

  it.each([
    ['10,000 aliases (token limit)', aliases(10_000), /Token limit of 1000 exceeded/],
    ['20 aliases (alias limit)', aliases(20), /Aliases limit of 15 exceeded, found 20/],
    ['60 directives', directives(60), /Directives limit of 50 exceeded, found 60/],
  ])('%s -> GRAPHQL_VALIDATION_FAILED', async (_case, query, message) => {
    const app = await startTestApp(env);
    const bystander = await startBystander(app);
    const ws = overWs(app);
    for (const [transport, answer] of [
      ['http', await overHttp(app, query)],
      ['sse', await overSse(app, query)],
      ['ws', await ws(query)],
    ] as const) {
      expect({ transport, codes: codes(answer) }).toEqual({ transport, codes: ['GRAPHQL_VALIDATION_FAILED'] });
      expect(messages(answer)).toMatch(message);
      expect(answer.data ?? undefined).toBeUndefined();
      // Yoga's internal `extensions.http` never reaches a client, whatever the transport.
      for (const error of answer.errors ?? []) expect(error.extensions).toEqual({ code: 'GRAPHQL_VALIDATION_FAILED' });
    }
    // The same socket still answers, and the bystander never noticed.
    expect(await ws('{ me { id } }')).toEqual({ data: { me: { id: 'mallory' } } });
    await bystander.proveAlive();
  });

  it('GRAPHQL_MAX_COST rejects an expensive query on every transport', async () => {
    const app = await startTestApp({ GRAPHQL_MAX_COST: '20' });
    const query = '{ rooms { id name messages { id body author { id name } } online { connections user { id name } } } }';
    const ws = overWs(app);
    for (const answer of [await overHttp(app, query), await overSse(app, query), await ws(query)]) {
      expect(codes(answer)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(messages(answer)).toMatch(/Query Cost limit of 20 exceeded/);
    }
    expect(await ws('{ me { id } }')).toEqual({ data: { me: { id: 'mallory' } } });
  });

  it('honest queries (the GraphiQL kind, with fragments) pass the defaults', async () => {
    const app = await startTestApp();
    const result = await overHttp(
      app,
      `{ me { id name } rooms { id name private createdAt online { user { id name } connections since }
         messages(last: 10) { id body sentAt author { id name } } } }`,
    );
    expect(result.errors).toBeUndefined();
  });

  it('a syntax error is GRAPHQL_PARSE_FAILED on every transport, and the socket stays open', async () => {
    const app = await startTestApp();
    const ws = overWs(app);
    for (const answer of [await overHttp(app, '{ me { id }'), await overSse(app, '{ me { id }'), await ws('{ me { id }')]) {
      expect(codes(answer)).toEqual(['GRAPHQL_PARSE_FAILED']);
    }
    expect(await ws('{ me { id } }')).toEqual({ data: { me: { id: 'mallory' } } });
  });

  describe('introspection and field suggestions', () => {
    it('are on outside production by default', async () => {
      const app = await startTestApp();
      const schema = await overHttp(app, '{ __schema { queryType { name } } }');
      expect(schema).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
      expect(messages(await overHttp(app, '{ mee { id } }'))).toMatch(/Did you mean "me"/);
    });

    it('INTROSPECTION=false refuses __schema and __type and hides suggestions, on every transport', async () => {
      const app = await startTestApp({ INTROSPECTION: 'false' });
      const bystander = await startBystander(app);
      const ws = overWs(app);
      for (const query of ['{ __schema { queryType { name } } }', '{ __type(name: "Query") { name } }']) {
        for (const answer of [await overHttp(app, query), await overSse(app, query), await ws(query)]) {
          expect(codes(answer)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
          expect(messages(answer)).toMatch(/introspection/i);
        }
      }
      for (const answer of [await overHttp(app, '{ mee { id } }'), await ws('{ mee { id } }')]) {
        expect(codes(answer)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
        expect(messages(answer)).not.toMatch(/Did you mean/);
      }
      expect(await ws('{ me { id } }')).toEqual({ data: { me: { id: 'mallory' } } });
      await bystander.proveAlive();
    });

    it('is off in production unless INTROSPECTION=true', async () => {
      const production = { NODE_ENV: 'production', LOG_LEVEL: 'silent' };
      const off = await startTestApp(production);
      expect(codes(await overHttp(off, '{ __schema { queryType { name } } }'))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      const on = await startTestApp({ ...production, INTROSPECTION: 'true' });
      expect((await overHttp(on, '{ __schema { queryType { name } } }')).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    });
  });

  it('batching is off: an array body is refused', async () => {
    const app = await startTestApp();
    const response = await fetch(app.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]),
      signal: AbortSignal.timeout(5_000),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as GraphQLResponse;
    expect(body.errors?.[0]?.message).toMatch(/Invalid JSON body|must be an object|batch/i);
  });

  describe('MAX_HTTP_BODY_BYTES', () => {
    it('answers 413 to a body over the limit by Content-Length, and the server goes on', async () => {
      const app = await startTestApp({ MAX_HTTP_BODY_BYTES: '4096' });
      const bystander = await startBystander(app);
      const response = await fetch(app.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `{ __typename } # ${'x'.repeat(2 * 1024 * 1024)}` }),
        signal: AbortSignal.timeout(10_000),
      });
      expect(response.status).toBe(413);
      await bystander.proveAlive();
    });

    it('answers 413 to a chunked body (no Content-Length) once the streamed bytes pass the limit', async () => {
      const app = await startTestApp({ MAX_HTTP_BODY_BYTES: '4096' });
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: app.port,
            path: '/graphql',
            method: 'POST',
            headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
            timeout: 10_000,
          },
          (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          },
        );
        req.once('error', (error: NodeJS.ErrnoException) =>
          error.code === 'EPIPE' || error.code === 'ECONNRESET' ? resolve(-1) : reject(error),
        );
        req.once('timeout', () => req.destroy(new Error('timed out')));
        req.write(`{"query": "{ __typename } # `);
        for (let i = 0; i < 64; i += 1) req.write('x'.repeat(1024));
        req.end('"}');
      });
      console.log(`chunked oversize body answered with ${status === -1 ? 'a reset connection' : `HTTP ${status}`}`);
      // 413, or the connection cut after the response when the server stops reading: never a parsed body.
      expect([413, -1]).toContain(status);
      const after = await gql(app.graphqlUrl, '{ __typename }');
      expect(after).toEqual({ data: { __typename: 'Query' } });
    });
  });
});

describe('GRAPHQL_MAX_DEPTH and GRAPHQL_MAX_COST count fields, not fragments', () => {
  // rooms > online > user > id: 4 levels, each wrapped in fragments named and inline, 20 deep in one place, as
  // generated documents nest them. The schema has no recursive type, so depth is shown with a lowered limit.
  const document = `{ rooms { ...R } } fragment R on Room { ... on Room { ...R2 } } fragment R2 on Room { ${'... on Room { '.repeat(20)}online { ...P }${' }'.repeat(20)} } fragment P on Presence { user { id } }`;

  it('accepts the selection at depth limit 4 and default cost, whatever wraps it', async () => {
    const app = await startTestApp({ GRAPHQL_MAX_DEPTH: '4' });
    expect(await overHttp(app, document)).toEqual({ data: { rooms: [] } });
  });

  it('refuses it at depth limit 3 on every transport, the socket staying open', async () => {
    const app = await startTestApp({ GRAPHQL_MAX_DEPTH: '3' });
    const ws = overWs(app);
    for (const answer of [await overHttp(app, document), await overSse(app, document), await ws(document)]) {
      expect(codes(answer)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(messages(answer)).toBe('Syntax Error: Query depth limit of 3 exceeded, found 4.');
    }
    expect(await ws('{ me { id } }')).toEqual({ data: { me: { id: 'mallory' } } });
  });
});
