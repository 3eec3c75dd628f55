/**
 * The Node limit: a `ws` server that serializes each message's `next` payload once and writes it to every
 * subscriber of a room with that subscriber's operation id spliced in (graphql-ws clients use a random id per
 * operation, so a frame cannot be shared whole). It speaks just enough of graphql-transport-ws (init/ack,
 * subscribe, complete, ping/pong) and of GraphQL over HTTP (createRoom, sendMessage) for the bench generator, and
 * takes `sendMessage` over either transport, as the project does. A token is verified once per connection (at
 * `connection_init`, or on the first request of a keep-alive HTTP connection), never per message.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { SUBPROTOCOL, formatMessageId, type WireMessage } from '../protocol.ts';
import { closeOnSignals, readBaselineEnv, readJson, sendJson, verifyBearer, type Author } from './shared.ts';

const HISTORY_LIMIT = 10_000;

interface Subscription {
  socket: WebSocket;
  opId: string;
}

interface RoomState {
  seq: number;
  /** Each stored message with its serialized `next` payload, for replays. */
  history: Array<{ message: WireMessage; payload: string }>;
  subscriptions: Set<Subscription>;
}

interface Operation {
  query?: string;
  variables?: Record<string, unknown>;
}

type Result = { data: Record<string, { id: string }> } | { errors: Array<{ message: string }> };

const env = readBaselineEnv(process.env);
const rooms = new Map<string, RoomState>();

function room(id: string): RoomState {
  let state = rooms.get(id);
  if (!state) {
    state = { seq: 0, history: [], subscriptions: new Set() };
    rooms.set(id, state);
  }
  return state;
}

/** The same bytes a graphql-ws server writes for both bench documents (they select the same fields). */
const nextPayload = (message: WireMessage): string =>
  JSON.stringify({
    data: {
      roomEvents: {
        __typename: 'MessageSent',
        message: { id: message.id, roomId: message.roomId, body: message.body, sentAt: message.sentAt },
      },
    },
  });

const frame = (opId: string, payload: string): string => `{"id":${JSON.stringify(opId)},"type":"next","payload":${payload}}`;

function publish(roomId: string, body: string): WireMessage {
  const state = room(roomId);
  state.seq += 1;
  const message: WireMessage = { id: formatMessageId(roomId, state.seq), roomId, body, sentAt: new Date().toISOString() };
  const payload = nextPayload(message);
  state.history.push({ message, payload });
  if (state.history.length > HISTORY_LIMIT) state.history.shift();
  for (const sub of state.subscriptions) sub.socket.send(frame(sub.opId, payload));
  return message;
}

/** The two mutations the bench sends, whichever transport carried them; `author` was verified by the caller. */
function execute(op: Operation, author: Author | null): Result {
  if (!author) return { errors: [{ message: 'unauthenticated' }] };
  if (op.query?.includes('createRoom')) {
    // As long as the project's room ids (`r_` + 12 characters), so that frames are the same size.
    const id = `r_${randomBytes(9).toString('base64url')}`;
    room(id);
    return { data: { createRoom: { id } } };
  }
  const roomId = op.variables?.roomId;
  const body = op.variables?.body;
  if (op.query?.includes('sendMessage') && typeof roomId === 'string' && typeof body === 'string') {
    return { data: { sendMessage: { id: publish(roomId, body).id } } };
  }
  return { errors: [{ message: 'unsupported operation' }] };
}

/** Verified once per keep-alive connection (per distinct header on it), like a session. */
const httpAuthors = new WeakMap<Socket, { header: string; author: Author | null }>();

async function httpAuthor(req: IncomingMessage): Promise<Author | null> {
  const header = req.headers.authorization ?? '';
  const known = httpAuthors.get(req.socket);
  if (known && known.header === header) return known.author;
  const author = await verifyBearer(env.secret, header);
  httpAuthors.set(req.socket, { header, author });
  return author;
}

const http = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') return sendJson(res, 200, { ok: true });
  if (req.method !== 'POST' || req.url !== '/graphql') return sendJson(res, 404, { error: 'not found' });
  void (async () => {
    const author = await httpAuthor(req);
    sendJson(res, 200, execute((await readJson(req)) as Operation, author));
  })().catch(() => sendJson(res, 400, { errors: [{ message: 'bad request' }] }));
});

const wss = new WebSocketServer({
  server: http,
  path: '/graphql',
  perMessageDeflate: false,
  handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
});

wss.on('connection', (socket) => {
  let author: Author | null = null;
  const mine = new Map<string, { roomId: string; sub: Subscription }>();
  socket.on('message', (data) => {
    let msg: { type?: string; id?: string; payload?: { authorization?: unknown } & Operation };
    try {
      msg = JSON.parse(String(data)) as typeof msg;
    } catch {
      return socket.close(4400, 'Invalid message');
    }
    if (msg.type === 'connection_init') {
      void verifyBearer(env.secret, msg.payload?.authorization).then((verified) => {
        if (!verified) return socket.close(4403, 'Forbidden');
        author = verified;
        socket.send('{"type":"connection_ack"}');
      });
    } else if (msg.type === 'ping') {
      socket.send('{"type":"pong"}');
    } else if (msg.type === 'subscribe' && author && typeof msg.id === 'string') {
      const id = msg.id;
      const query = msg.payload?.query ?? '';
      if (query.trimStart().startsWith('mutation')) {
        const result = execute(msg.payload ?? {}, author);
        socket.send(JSON.stringify({ id, type: 'next', payload: result }));
        socket.send(JSON.stringify({ id, type: 'complete' }));
        return;
      }
      const roomId = msg.payload?.variables?.roomId;
      const after = msg.payload?.variables?.after;
      if (typeof roomId !== 'string') return socket.close(4400, 'Invalid message');
      const state = room(roomId);
      // Replay and go live in one synchronous step, so nothing published in between is missed or doubled.
      if (typeof after === 'string') {
        for (const stored of state.history) if (stored.message.id > after) socket.send(frame(id, stored.payload));
      }
      const sub = { socket, opId: id };
      state.subscriptions.add(sub);
      mine.set(id, { roomId, sub });
    } else if (msg.type === 'complete' && typeof msg.id === 'string') {
      const entry = mine.get(msg.id);
      if (entry) rooms.get(entry.roomId)?.subscriptions.delete(entry.sub);
      mine.delete(msg.id);
    }
  });
  socket.on('close', () => {
    for (const { roomId, sub } of mine.values()) rooms.get(roomId)?.subscriptions.delete(sub);
    mine.clear();
  });
});

http.listen(env.port, env.host);
closeOnSignals(http, wss);
