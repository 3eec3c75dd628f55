import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createApp, type AppOptions } from '../../src/app.ts';
import { silentLogger } from '../../src/chat/logger.ts';
import { loadConfig } from '../../src/config.ts';
import { ROOM_EVENTS, SEND_MESSAGE, createRoom, send, user } from '../utils/chat.ts';
import { useRedis } from '../utils/redis-server.ts';
import { subscribeSse } from '../utils/sse-client.ts';
import { TEST_SECRET } from '../utils/tokens.ts';
import { waitFor, within } from '../utils/wait.ts';

const redis = useRedis();
const BODY_LIMIT = 3_000;

async function startApp(env: Record<string, string>, options: AppOptions) {
  const config = loadConfig({ JWT_SECRET: TEST_SECRET, HOST: '127.0.0.1', PORT: '0', ...env });
  const app = await createApp(config, silentLogger, options);
  const { port } = await app.listen();
  onTestFinished(() => app.stop());
  return { port, graphqlUrl: `http://127.0.0.1:${port}/graphql` };
}

interface LaneRequest {
  body: string;
  accept: string | undefined;
  contentType: string;
  token: string | undefined;
  origin: string | undefined;
  path: string;
  laneFirst: boolean;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Headers that differ between any two responses (time, connection management). */
const VOLATILE = new Set(['date', 'connection', 'keep-alive']);

/** One request with exactly these headers (fetch would add its own), its answer as a user sees it. */
async function post(port: number, path: string, headers: Record<string, string>, body: string): Promise<Answer> {
  const answer = new Promise<Answer>((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        const kept: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) if (!VOLATILE.has(name)) kept[name] = String(value);
        // A subscription streamed (SSE, multipart) never ends by itself: its headers are the answer compared.
        if (/^(text\/event-stream|multipart\/mixed)/.test(kept['content-type'] ?? '')) {
          req.destroy();
          return resolve({ status: res.statusCode ?? 0, headers: kept, body: '(a stream)' });
        }
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: kept, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
  return within(answer, 5_000, `POST ${path} ${JSON.stringify(headers)} ${body.slice(0, 200)}`);
}

const ACCEPTS = [
  undefined,
  '*/*',
  'application/json',
  'application/graphql-response+json',
  // Apollo Client 4's HttpLink
  'application/graphql-response+json,application/json;q=0.9',
  // urql 6
  'application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed',
  'text/event-stream',
  'multipart/mixed',
  'text/html',
  'application/*',
  'application/json; charset=latin1',
  'application/json;charset=utf-8, application/graphql-response+json;charset=iso-8859-1',
  'APPLICATION/GRAPHQL-RESPONSE+JSON , text/plain',
  'application/json, application/graphql-response+json',
  '',
];
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json;charset=utf-8',
  'Application/JSON',
  'application/graphql+json',
  'application/json, text/plain',
  'text/plain',
];

/** The request bodies: every operation shape the lane answers, and every one it must hand to Yoga. */
function bodies(roomId: string, privateRoomId: string): Record<string, string> {
  const json = (value: unknown) => JSON.stringify(value);
  return {
    query: json({ query: '{ me { id name } }' }),
    'query with variables and operationName': json({
      query: 'query Room($id: ID!) { room(id: $id) { id name private messages(last: 2) { id body author { id } } } }',
      variables: { id: roomId },
      operationName: 'Room',
    }),
    'named fragment': json({ query: 'query Me { me { ...U } } fragment U on User { id name }', operationName: 'Me' }),
    'two operations, one chosen': json({ query: 'query A { me { id } } query B { rooms { id } }', operationName: 'B' }),
    'two operations, none chosen': json({ query: 'query A { me { id } } query B { rooms { id } }' }),
    'operationName matches nothing': json({ query: 'query A { me { id } }', operationName: 'Z' }),
    'extensions and explicit nulls': json({
      query: '{ me { id } }',
      variables: null,
      operationName: null,
      extensions: { persistedQuery: null },
    }),
    'idempotent send (retried on the other server)': json({
      query: SEND_MESSAGE,
      variables: { roomId, body: 'equivalence', clientMessageId: 'lane-equivalence-1' },
    }),
    'send into a private room (FORBIDDEN for outsiders)': json({
      query: SEND_MESSAGE,
      variables: { roomId: privateRoomId, body: 'x', clientMessageId: 'lane-equivalence-2' },
    }),
    'send an empty body (BAD_USER_INPUT)': json({ query: SEND_MESSAGE, variables: { roomId, body: '   ' } }),
    'variable of the wrong type': json({ query: SEND_MESSAGE, variables: { roomId, body: 7 } }),
    'missing variable': json({ query: SEND_MESSAGE, variables: { roomId } }),
    'unknown room (NOT_FOUND)': json({ query: 'query { room(id: "r_nope") { id } }' }),
    'bad rooms page (BAD_USER_INPUT)': json({ query: '{ rooms(first: 9999) { id } }' }),
    'syntax error': json({ query: '{ me { id ' }),
    'unknown field': json({ query: '{ me { nope } }' }),
    'too deep (GRAPHQL_MAX_DEPTH 4)': json({ query: '{ rooms { documents { room { messages(last: 1) { author { id } } } } } }' }),
    introspection: json({ query: '{ __schema { queryType { name } } }' }),
    subscription: json({ query: ROOM_EVENTS, variables: { roomId } }),
    'mutation over a query name': json({ query: 'mutation { me }' }),
    'query missing': json({ variables: {} }),
    'query not a string': json({ query: 42 }),
    'variables a string': json({ query: '{ me { id } }', variables: '{}' }),
    'unexpected parameter': json({ query: '{ me { id } }', id: 'persisted' }),
    batch: json([{ query: '{ me { id } }' }]),
    'JSON null': 'null',
    'a JSON string': '"{ me { id } }"',
    'invalid JSON': '{"query": ',
    'byte order mark': `\uFEFF${json({ query: '{ me { id } }' })}`,
    'over the body limit': json({ query: `{ me { id } } # ${'x'.repeat(BODY_LIMIT)}` }),
    'an empty query': json({ query: '' }),
  };
}

async function laneAnswered(port: number): Promise<number> {
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = metrics.split('\n').find((l) => l.startsWith('chat_http_lane_requests_total '));
  return Number(line?.split(' ')[1]);
}

describe.each([
  ['development', { NODE_ENV: 'test' }],
  ['production', { NODE_ENV: 'production' }],
])('the HTTP lane answers as Yoga does (%s)', (_mode, modeEnv) => {
  it('for every request shape, header and token, byte for byte', { timeout: 120_000 }, async () => {
    const env = {
      ...modeEnv,
      REDIS_URL: redis().url,
      REDIS_PREFIX: redis().newPrefix(),
      MAX_HTTP_BODY_BYTES: String(BODY_LIMIT),
      MESSAGE_RATE: '100000',
      MESSAGE_BURST: '100000',
      GRAPHQL_MAX_DEPTH: '4',
    };
    const lane = await startApp(env, { httpLane: true });
    const yoga = await startApp(env, { httpLane: false });
    const [member, outsider] = await Promise.all([user('lane-member'), user('lane-outsider')]);
    const roomId = await createRoom(yoga.graphqlUrl, member.token);
    const privateRoomId = await createRoom(yoga.graphqlUrl, member.token, { private: true });
    await send(yoga.graphqlUrl, member.token, roomId, 'hello');
    const shapes = bodies(roomId, privateRoomId);

    const request: fc.Arbitrary<LaneRequest> = fc.record({
      body: fc.constantFrom(...Object.keys(shapes)),
      accept: fc.constantFrom(...ACCEPTS),
      contentType: fc.constantFrom(...CONTENT_TYPES),
      token: fc.constantFrom(member.token, outsider.token, 'not-a-jwt', undefined),
      origin: fc.constantFrom(undefined, 'http://app.example'),
      path: fc.constantFrom('/graphql', '/graphql', '/graphql', '/graphql?x=1', '/graphq'),
      laneFirst: fc.boolean(),
    });
    // Every body at least once with the headers real clients send, then random combinations.
    const fixed = Object.keys(shapes).flatMap((body) =>
      [ACCEPTS[0], ACCEPTS[4], ACCEPTS[5]].map((accept) => ({
        body,
        accept,
        contentType: 'application/json',
        token: member.token as string | undefined,
        origin: 'http://app.example' as string | undefined,
        path: '/graphql',
        laneFirst: true,
      })),
    );
    const compare = async (r: LaneRequest) => {
      const headers: Record<string, string> = { 'content-type': r.contentType };
      if (r.accept !== undefined) headers.accept = r.accept;
      if (r.token !== undefined) headers.authorization = `Bearer ${r.token}`;
      if (r.origin !== undefined) headers.origin = r.origin;
      const body = shapes[r.body] as string;
      const order = r.laneFirst ? [lane, yoga] : [yoga, lane];
      const first = await post(order[0]!.port, r.path, headers, body);
      const second = await post(order[1]!.port, r.path, headers, body);
      const [fromLane, fromYoga] = r.laneFirst ? [first, second] : [second, first];
      expect(fromLane, `${r.body} with ${JSON.stringify(headers)}`).toEqual(fromYoga);
    };
    for (const r of fixed) await compare(r);
    // The comparison means something only if the lane answered: every body it takes, with each fixed header set.
    const taken = await laneAnswered(lane.port);
    expect(taken).toBeGreaterThanOrEqual(3 * 12);
    await fc.assert(fc.asyncProperty(request, compare), { numRuns: 300 });
    expect(await laneAnswered(lane.port)).toBeGreaterThan(taken);
    expect(await laneAnswered(yoga.port)).toBe(0);
  });
});

describe('requests the lane hands to Yoga after reading their body', () => {
  it('a subscription POSTed with urql’s Accept streams over SSE and ends when the client leaves', { timeout: 30_000 }, async () => {
    const app = await startApp({ NODE_ENV: 'test' }, { httpLane: true });
    const [writer, reader] = await Promise.all([user('lane-writer'), user('lane-reader')]);
    const roomId = await createRoom(app.graphqlUrl, writer.token);
    const stream = await subscribeSse(
      app.graphqlUrl,
      ROOM_EVENTS,
      { roomId },
      {
        token: reader.token,
        headers: {
          accept: 'application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed',
        },
      },
    );
    expect(stream.status).toBe(200);
    expect(stream.contentType).toMatch(/^text\/event-stream/);
    await send(app.graphqlUrl, writer.token, roomId, 'through the stream');
    await waitFor(
      () => stream.nexts().some((e) => e.data?.roomEvents?.message?.body === 'through the stream'),
      5_000,
      'the message over SSE',
    );
    await stream.close();
    // The reader's presence ends with its stream: the request's abort reached the subscription.
    await waitFor(
      async () => {
        const online = await post(
          app.port,
          '/graphql',
          { 'content-type': 'application/json', authorization: `Bearer ${writer.token}` },
          JSON.stringify({ query: `{ room(id: "${roomId}") { online { user { id } } } }` }),
        );
        return !online.body.includes('lane-reader');
      },
      5_000,
      'the SSE subscription ended when its client left',
    );
  });
});

describe('a client that leaves while sending its body', () => {
  it('costs the server nothing: reset or closed mid-body, 40 times, then a request is answered', { timeout: 30_000 }, async () => {
    const app = await startApp({ NODE_ENV: 'test' }, { httpLane: true });
    const member = await user('lane-leaver');
    for (let i = 0; i < 40; i++) {
      const socket = connect(app.port, '127.0.0.1');
      await within(once(socket, 'connect'), 5_000, 'connect');
      socket.write(
        `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer ${member.token}\r\nContent-Length: 1000\r\n\r\n{"query":"{ me`,
      );
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (i % 2 === 0) socket.resetAndDestroy();
      else socket.destroy();
      await within(once(socket, 'close'), 5_000, 'socket closed');
    }
    const answer = await post(
      app.port,
      '/graphql',
      { 'content-type': 'application/json', authorization: `Bearer ${member.token}` },
      JSON.stringify({ query: '{ me { id } }' }),
    );
    expect(answer.body).toBe('{"data":{"me":{"id":"lane-leaver"}}}');
  });
});
