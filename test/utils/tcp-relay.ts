import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { onTestFinished } from 'vitest';

export interface TcpRelay {
  readonly port: number;
  /** Connections open now (client side). */
  open(): number;
  /** Resets every open connection at once (RST: the peer cannot tell it from a dead network path). */
  dropAll(): number;
}

/**
 * A TCP server on a free loopback port that connects each client to `targetPort` and hands both sockets to
 * `relay`, which moves the bytes (and may return a cleanup). Either side's end ends both; every connection and
 * the server are closed after the test. The proxies of the test suite differ only in their `relay`.
 */
export async function startTcpRelay(
  targetPort: number,
  relay: (client: Socket, upstream: Socket) => (() => void) | void,
): Promise<TcpRelay> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    const cleanup = relay(client, upstream);
    const end = () => {
      cleanup?.();
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const dropAll = () => {
    const cut = pairs.size;
    for (const { client, upstream } of [...pairs]) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    pairs.clear();
    return cut;
  };
  onTestFinished(async () => {
    dropAll();
    await new Promise((resolve) => server.close(resolve));
  });
  return { port: address.port, open: () => pairs.size, dropAll };
}
