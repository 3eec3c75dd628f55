import { startTcpRelay } from './tcp-relay.ts';

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
  const relay = await startTcpRelay(targetPort, (client, upstream) => {
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return { port: relay.port, wsUrl: `ws://127.0.0.1:${relay.port}/graphql`, open: relay.open, dropAll: relay.dropAll };
}
