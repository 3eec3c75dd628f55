/**
 * The stock recipe from Yoga's `examples/graphql-ws`: Yoga + graphql-ws `useServer` whose `onSubscribe` calls
 * `yoga.getEnveloped`, and `createPubSub` (Redis event target when REDIS_URL is set). Same schema subset and
 * document as the project, so the difference measured is the project's own work.
 */
import { createServer } from 'node:http';
import type { ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { createPubSub, createSchema, createYoga, type PubSubEventTarget, type YogaInitialContext } from 'graphql-yoga';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis } from 'ioredis';
import { formatMessageId, type WireMessage } from '../protocol.ts';
import { closeOnSignals, readBaselineEnv, verifyBearer, type Author } from './shared.ts';

const HISTORY_LIMIT = 10_000;
/** What the schema resolves: the bench documents' fields, plus the author. */
type StoredMessage = WireMessage & { author: Author };
const env = readBaselineEnv(process.env);

type Events = { room: [roomId: string, message: StoredMessage] };
type EventTarget = PubSubEventTarget<Events>;

const redisClients = env.redisUrl ? [new Redis(env.redisUrl), new Redis(env.redisUrl)] : [];
const eventTarget: EventTarget | undefined =
  redisClients[0] && redisClients[1]
    ? (createRedisEventTarget({ publishClient: redisClients[0], subscribeClient: redisClients[1] }) as EventTarget)
    : undefined;
const pubsub = createPubSub<Events>(eventTarget ? { eventTarget } : {});

const history = new Map<string, { seq: number; messages: StoredMessage[] }>();
let nextRoom = 0;

function roomHistory(roomId: string): { seq: number; messages: StoredMessage[] } {
  let entry = history.get(roomId);
  if (!entry) history.set(roomId, (entry = { seq: 0, messages: [] }));
  return entry;
}

type Ctx = {
  viewer: Author | null;
};

const event = (message: StoredMessage) => ({ __typename: 'MessageSent' as const, message });

async function* roomEvents(roomId: string, after: string | null): AsyncGenerator<ReturnType<typeof event>> {
  const live = pubsub.subscribe('room', roomId)[Symbol.asyncIterator]();
  // The first next() starts the listener synchronously, before the history snapshot: no gap between them.
  let pending = live.next();
  let lastId = after ?? '';
  try {
    if (after !== null) {
      for (const m of roomHistory(roomId).messages.filter((m) => m.id > after)) {
        lastId = m.id;
        yield event(m);
      }
    }
    for (let step = 0; step < Number.MAX_SAFE_INTEGER; step++) {
      const result = await pending;
      if (result.done) return;
      pending = live.next();
      if (result.value.id > lastId) yield event(result.value);
    }
  } finally {
    await live.return?.();
  }
}

const schema = createSchema<Ctx>({
  typeDefs: /* GraphQL */ `
    type User {
      id: ID!
      name: String!
    }
    type Message {
      id: ID!
      roomId: ID!
      author: User!
      body: String!
      sentAt: String!
    }
    type MessageSent {
      message: Message!
    }
    union RoomEvent = MessageSent
    type Room {
      id: ID!
      name: String!
    }
    type Query {
      ok: Boolean!
    }
    type Mutation {
      createRoom(name: String!): Room!
      sendMessage(roomId: ID!, body: String!): Message!
    }
    type Subscription {
      roomEvents(roomId: ID!, after: ID): RoomEvent!
    }
  `,
  resolvers: {
    Query: { ok: () => true },
    Mutation: {
      createRoom: (_p, { name }: { name: string }) => {
        nextRoom += 1;
        return { id: `y${process.pid}-${nextRoom}`, name };
      },
      sendMessage: async (_p, { roomId, body }: { roomId: string; body: string }, ctx) => {
        if (!ctx.viewer) throw new Error('UNAUTHENTICATED');
        const room = roomHistory(roomId);
        room.seq += 1;
        const message: StoredMessage = {
          id: formatMessageId(roomId, room.seq),
          roomId,
          body,
          sentAt: new Date().toISOString(),
          author: ctx.viewer,
        };
        room.messages.push(message);
        if (room.messages.length > HISTORY_LIMIT) room.messages.shift();
        pubsub.publish('room', roomId, message);
        return message;
      },
    },
    Subscription: {
      roomEvents: {
        subscribe: (_p, { roomId, after }: { roomId: string; after?: string | null }) => roomEvents(roomId, after ?? null),
        resolve: (payload: ReturnType<typeof event>) => payload,
      },
    },
  },
});

const yoga = createYoga<Record<never, never>, Ctx>({
  schema,
  graphqlEndpoint: '/graphql',
  graphiql: false,
  logging: 'warn',
  context: async ({ request, connectionParams }: YogaInitialContext & { connectionParams?: Record<string, unknown> }) => ({
    viewer: await verifyBearer(env.secret, connectionParams?.authorization ?? request.headers.get('authorization')),
  }),
});

const http = createServer((req, res) => {
  if (req.url === '/health') return void res.writeHead(200).end('ok');
  void yoga(req, res);
});

const wss = new WebSocketServer({ server: http, path: yoga.graphqlEndpoint, perMessageDeflate: false });

type EnvelopedRoot = Pick<ReturnType<typeof yoga.getEnveloped>, 'execute' | 'subscribe'>;
type OperationResult = ReturnType<NonNullable<Parameters<typeof useServer>[0]['execute']>>;

useServer(
  {
    // envelop's execute/subscribe return graphql-js results; graphql-ws types them as its own OperationResult.
    execute: (args) => (args.rootValue as EnvelopedRoot).execute(args) as OperationResult,
    subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args) as OperationResult,
    onConnect: async (ctx) => (await verifyBearer(env.secret, ctx.connectionParams?.authorization)) !== null,
    onSubscribe: async (ctx, _id, params) => {
      const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
        ...ctx,
        req: ctx.extra.request,
        socket: ctx.extra.socket,
        params,
      });
      const args: ExecutionArgs = {
        schema,
        operationName: params.operationName,
        document: parse(params.query),
        variableValues: params.variables,
        contextValue: await contextFactory(),
        rootValue: { execute, subscribe } satisfies EnvelopedRoot,
      };
      const errors = validate(args.schema, args.document);
      return errors.length ? errors : args;
    },
  },
  wss,
);

http.listen(env.port, env.host);
closeOnSignals(http, wss, () => {
  for (const client of redisClients) client.disconnect();
});
