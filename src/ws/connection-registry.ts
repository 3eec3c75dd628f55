import type { WebSocket } from 'ws';
import type { Viewer } from '../chat/types.ts';

/** What the server knows of one socket. Plain fields, no closures: thousands of these sit idle. */
export interface Connection {
  readonly id: string;
  readonly socket: WebSocket;
  readonly remoteAddress: string;
  readonly connectedAt: number;
  viewer: Viewer | null;
  /** Set by every pong, cleared by every heartbeat sweep. */
  alive: boolean;
  lastPongAt: number;
  frameWindowStart: number;
  framesInWindow: number;
  /** The socket's one pending deadline on the edge's shared timer (`socket-deadlines.ts`), null when none. */
  deadlineFor: 'connection-init' | 'token-expiry' | 'close-grace' | null;
  deadlineAt: number;
  /** Its place in the scheduler's heap, -1 when not scheduled. */
  deadlineIndex: number;
}

export function createConnectionRegistry() {
  const connections = new Map<WebSocket, Connection>();
  let sequence = 0;
  return {
    add(socket: WebSocket, remoteAddress: string): Connection {
      const now = Date.now();
      const connection: Connection = {
        id: `c${(++sequence).toString(36)}`,
        socket,
        remoteAddress,
        connectedAt: now,
        viewer: null,
        alive: true,
        lastPongAt: now,
        frameWindowStart: now,
        framesInWindow: 0,
        deadlineFor: null,
        deadlineAt: 0,
        deadlineIndex: -1,
      };
      connections.set(socket, connection);
      return connection;
    },
    remove(socket: WebSocket): Connection | undefined {
      const connection = connections.get(socket);
      connections.delete(socket);
      return connection;
    },
    get size() {
      return connections.size;
    },
    values() {
      return connections.values();
    },
  };
}

export type ConnectionRegistry = ReturnType<typeof createConnectionRegistry>;
