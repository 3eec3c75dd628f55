import { startTcpRelay } from './tcp-relay.ts';

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
  const relay = await startTcpRelay(redisPort, (client, upstream) => {
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
  });
  return {
    url: `redis://127.0.0.1:${relay.port}`,
    dropNextReplyTo(pattern) {
      armed = pattern;
    },
  };
}
