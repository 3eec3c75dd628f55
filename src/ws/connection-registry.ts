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
  /** Pending close at token expiry (re-armed past Node's 24.8-day timer limit). */
  expiryTimer: NodeJS.Timeout | null;
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
        expiryTimer: null,
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
