/**
 * The Node limit: a `ws` server that broadcasts one pre-serialized graphql-transport-ws `next` frame per
 * subscription id to every subscriber of a room. It speaks just enough of the protocol (init/ack, subscribe,
 * complete, ping/pong) and of GraphQL-over-HTTP (createRoom, sendMessage) for the bench generator.
 */
import { createServer } from 'node:http';
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
  history: WireMessage[];
  subscriptions: Set<Subscription>;
}

const env = readBaselineEnv(process.env);
const rooms = new Map<string, RoomState>();
let nextRoom = 0;

function room(id: string): RoomState {
  let state = rooms.get(id);
  if (!state) {
    state = { seq: 0, history: [], subscriptions: new Set() };
    rooms.set(id, state);
  }
  return state;
}

function nextFrame(opId: string, message: WireMessage): string {
  return JSON.stringify({ id: opId, type: 'next', payload: { data: { roomEvents: { __typename: 'MessageSent', message } } } });
}

function publish(roomId: string, body: string, author: Author): WireMessage {
  const state = room(roomId);
  state.seq += 1;
  const message: WireMessage = { id: formatMessageId(roomId, state.seq), roomId, body, sentAt: new Date().toISOString(), author };
  state.history.push(message);
  if (state.history.length > HISTORY_LIMIT) state.history.shift();
  // Serialized once per operation id, not per socket: the generator uses one id, so this is one JSON.stringify.
  const frames = new Map<string, Buffer>();
  for (const sub of state.subscriptions) {
    let frame = frames.get(sub.opId);
    if (!frame) {
      frame = Buffer.from(nextFrame(sub.opId, message));
      frames.set(sub.opId, frame);
    }
    sub.socket.send(frame, { binary: false });
  }
  return message;
}

const http = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') return sendJson(res, 200, { ok: true });
  if (req.method !== 'POST' || req.url !== '/graphql') return sendJson(res, 404, { error: 'not found' });
  void (async () => {
    const author = await verifyBearer(env.secret, req.headers.authorization);
    if (!author) return sendJson(res, 200, { errors: [{ message: 'unauthenticated', extensions: { code: 'UNAUTHENTICATED' } }] });
    const { query, variables } = (await readJson(req)) as { query?: string; variables?: Record<string, unknown> };
    if (query?.includes('createRoom')) {
      nextRoom += 1;
      const id = `r${nextRoom}`;
      room(id);
      return sendJson(res, 200, { data: { createRoom: { id } } });
    }
    if (query?.includes('sendMessage') && typeof variables?.r === 'string' && typeof variables.b === 'string') {
      const message = publish(variables.r, variables.b, author);
      return sendJson(res, 200, { data: { sendMessage: { id: message.id } } });
    }
    return sendJson(res, 200, { errors: [{ message: 'unsupported operation' }] });
  })().catch(() => sendJson(res, 400, { errors: [{ message: 'bad request' }] }));
});

const wss = new WebSocketServer({
  server: http,
  path: '/graphql',
  perMessageDeflate: false,
  handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
});

wss.on('connection', (socket) => {
  let acked = false;
  const mine = new Map<string, { roomId: string; sub: Subscription }>();
  socket.on('message', (data) => {
    let msg: { type?: string; id?: string; payload?: { authorization?: unknown; variables?: Record<string, unknown> } };
    try {
      msg = JSON.parse(String(data)) as typeof msg;
    } catch {
      return socket.close(4400, 'Invalid message');
    }
    if (msg.type === 'connection_init') {
      void verifyBearer(env.secret, msg.payload?.authorization).then((author) => {
        if (!author) return socket.close(4403, 'Forbidden');
        acked = true;
        socket.send('{"type":"connection_ack"}');
      });
    } else if (msg.type === 'ping') {
      socket.send('{"type":"pong"}');
    } else if (msg.type === 'subscribe' && acked && typeof msg.id === 'string') {
      const roomId = msg.payload?.variables?.r;
      const after = msg.payload?.variables?.after;
      if (typeof roomId !== 'string') return socket.close(4400, 'Invalid message');
      const state = room(roomId);
      // Replay and go live in one synchronous step, so nothing published in between is missed or doubled.
      if (typeof after === 'string') {
        for (const m of state.history) if (m.id > after) socket.send(nextFrame(msg.id, m));
      }
      const sub = { socket, opId: msg.id };
      state.subscriptions.add(sub);
      mine.set(msg.id, { roomId, sub });
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
