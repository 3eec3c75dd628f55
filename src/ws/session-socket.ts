import { WebSocket, type RawData } from 'ws';
import type { SocketSession } from './socket-session.ts';

/**
 * The edge's WebSocket class (ws's `WebSocket` option): a socket hands its events to its session's methods from
 * this one `emit` instead of through listeners. ws keeps each socket's listeners in a dictionary of its own, and a
 * shared listener needs a table back from the socket to its session: an idle socket pays for neither. Listeners
 * added by others (a shutdown waiting for 'close') still get 'close' and 'error'.
 */
export class SessionSocket extends WebSocket {
  session: SocketSession | null = null;

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    const { session } = this;
    if (session !== null) {
      switch (event) {
        case 'message':
          session.receive(args[0] as RawData, args[1] as boolean);
          return true;
        case 'ping':
          session.overFrameRate();
          return true;
        case 'pong':
          session.ponged();
          return true;
        case 'error':
          session.errored(args[0] as Error);
          // Handled: with no other listener, EventEmitter would throw it.
          return this.listenerCount('error') === 0 || super.emit(event, ...args);
        case 'close':
          session.env.socketClosed(session, args[0] as number, args[1] as Buffer);
          break;
      }
    }
    return super.emit(event, ...args);
  }
}

/** The session of one of the edge's sockets, if it has one yet. */
export function sessionOf(socket: WebSocket): SocketSession | null {
  return socket instanceof SessionSocket ? socket.session : null;
}
