import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { onTestFinished } from 'vitest';

export interface ReplyDroppingProxy {
  /** redis://127.0.0.1:<proxy port> */
  readonly url: string;
  /**
   * The next command matching `pattern` reaches Redis, but its reply never comes back: the client's connection
   * is cut a moment later, as when Redis dies (or the network fails) right after running it.
   */
  dropNextReplyTo(pattern: RegExp): void;
}

/** A TCP proxy in front of a redis-server that can lose one reply on purpose; closed after the test. */
export async function startReplyDroppingProxy(redisPort: number): Promise<ReplyDroppingProxy> {
  let armed: RegExp | null = null;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(redisPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let swallowing = false;
    client.on('data', (data) => {
      if (armed && armed.test(data.toString('latin1'))) {
        armed = null;
        swallowing = true;
        setTimeout(() => client.destroy(), 200).unref();
      }
      upstream.write(data);
    });
    upstream.on('data', (data) => {
      if (!swallowing) client.write(data);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  onTestFinished(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    url: `redis://127.0.0.1:${address.port}`,
    dropNextReplyTo(pattern) {
      armed = pattern;
    },
  };
}
