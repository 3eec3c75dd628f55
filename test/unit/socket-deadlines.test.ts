import type { WebSocket } from 'ws';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createConnectionRegistry, type Connection } from '../../src/ws/connection-registry.ts';
import { SocketDeadlines } from '../../src/ws/socket-deadlines.ts';
import { waitFor, within } from '../utils/wait.ts';

/** Just what the deadlines touch of a ws socket: its state and `close`, recorded. */
class FakeSocket {
  readonly OPEN = 1;
  readyState = 1;
  readonly closes: Array<{ code: number; reason: string }> = [];
  close(code: number, reason: string): void {
    this.closes.push({ code, reason });
    this.readyState = 2;
  }
}

function setup(initTimeoutMs: number) {
  const deadlines = new SocketDeadlines(initTimeoutMs);
  onTestFinished(() => deadlines.stop());
  const registry = createConnectionRegistry();
  const open = (): { connection: Connection; socket: FakeSocket } => {
    const socket = new FakeSocket();
    const connection = registry.add(socket as unknown as WebSocket, '127.0.0.1');
    deadlines.opened(connection);
    return { connection, socket };
  };
  return { deadlines, open };
}

const reached = (at: number) => within(new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now()))), 5_000, 'probe');

describe('SocketDeadlines', () => {
  it('closes 4408 with graphql-ws reason when connection_init does not come in time, and only then', async () => {
    const { deadlines, open } = setup(30);
    const inited = open();
    const idle = open();
    deadlines.initReceived(inited.connection);
    // Opened after `inited`, so its deadline is the later one.
    await waitFor(() => idle.socket.closes.length > 0, 5_000, 'the 4408 close');
    expect(idle.socket.closes).toEqual([{ code: 4408, reason: 'Connection initialisation timeout' }]);
    expect(inited.socket.closes).toEqual([]);
    expect(deadlines.size).toBe(0);
  });

  it('closes 4403 when the token expires, at once if it already has', async () => {
    const { deadlines, open } = setup(60_000);
    const expired = open();
    deadlines.initReceived(expired.connection);
    deadlines.expireAt(expired.connection, Date.now() - 1);
    expect(expired.socket.closes).toEqual([{ code: 4403, reason: 'Token expired' }]);

    const live = open();
    deadlines.initReceived(live.connection);
    deadlines.expireAt(live.connection, Date.now() + 30);
    await waitFor(() => live.socket.closes.length > 0, 5_000, 'the expiry close');
    expect(live.socket.closes).toEqual([{ code: 4403, reason: 'Token expired' }]);
  });

  it('forgets a socket once it closes, and never schedules one that is no longer open', async () => {
    const { deadlines, open } = setup(20);
    const closed = open();
    deadlines.initReceived(closed.connection);
    deadlines.expireAt(closed.connection, Date.now() + 20);
    deadlines.closed(closed.connection);
    // A token check that finishes after its client left (the socket closed during onConnect).
    const late = open();
    deadlines.initReceived(late.connection);
    late.socket.readyState = 3;
    deadlines.expireAt(late.connection, Date.now() + 20);
    expect(deadlines.size).toBe(0);
    await reached(Date.now() + 100);
    expect(closed.socket.closes).toEqual([]);
    expect(late.socket.closes).toEqual([]);
  });

  it.each([0, -1, Infinity, NaN])('has no connection_init deadline for %s, as graphql-ws', (timeoutMs) => {
    const { deadlines, open } = setup(timeoutMs);
    open();
    expect(deadlines.size).toBe(0);
  });
});
