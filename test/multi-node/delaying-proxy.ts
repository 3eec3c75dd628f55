import { startTcpRelay } from '../utils/tcp-relay.ts';

export interface DelayingProxy {
  /** redis://127.0.0.1:<proxy port> */
  readonly url: string;
}

/**
 * A TCP proxy in front of a redis-server that holds every client command matching `pattern` (tested against the
 * raw RESP bytes of each chunk) for `delayMs` before passing it on, and everything the client sends after it
 * too, so the connection's command order is kept: what a slow link does to one instance's commands, aimed at
 * one command. Replies pass untouched. Closed after the test.
 */
export async function startDelayingProxy(redisPort: number, pattern: RegExp, delayMs: number): Promise<DelayingProxy> {
  const relay = await startTcpRelay(redisPort, (client, upstream) => {
    const queue: Array<{ due: number; data: Buffer }> = [];
    let lastDue = 0;
    let timer: NodeJS.Timeout | null = null;
    const pump = () => {
      timer = null;
      const now = Date.now();
      while (queue.length > 0 && (queue[0] as { due: number }).due <= now) upstream.write((queue.shift() as { data: Buffer }).data);
      if (queue.length > 0) timer = setTimeout(pump, (queue[0] as { due: number }).due - now);
    };
    client.on('data', (data) => {
      const now = Date.now();
      const due = Math.max(pattern.test(data.toString('latin1')) ? now + delayMs : now, lastDue);
      lastDue = due;
      queue.push({ due, data });
      if (!timer) pump();
    });
    upstream.on('data', (data) => client.write(data));
    return () => {
      if (timer) clearTimeout(timer);
    };
  });
  return { url: `redis://127.0.0.1:${relay.port}` };
}
