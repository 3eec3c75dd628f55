import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { onTestFinished } from 'vitest';

export interface TcpProxy {
  readonly port: number;
  /** ws://127.0.0.1:<proxy port>/graphql */
  readonly wsUrl: string;
  /** Connections open now (client side). */
  open(): number;
  /**
   * Cuts every open connection at once, both directions, with no close frame (the client sees 1006), as a
   * network failure or a load balancer restart would. Returns how many were cut; new connections are accepted.
   */
  dropAll(): number;
}

/** A plain TCP relay in front of `targetPort` (a server or nginx); closed after the test. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
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
      // resetAndDestroy sends RST: the peer cannot tell this from a dead network path.
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
  return { port: address.port, wsUrl: `ws://127.0.0.1:${address.port}/graphql`, open: () => pairs.size, dropAll };
}
