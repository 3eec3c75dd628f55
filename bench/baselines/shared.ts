import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { WebSocketServer } from 'ws';
import { jwtVerify } from 'jose';

/**
 * What both baselines share with the project: the same env names, the same token check, the same JSON body limits.
 * Kept deliberately minimal so a baseline measures its transport, not extra features.
 */
export interface BaselineEnv {
  port: number;
  host: string;
  secret: Uint8Array;
  redisUrl: string | null;
}

export function readBaselineEnv(env: NodeJS.ProcessEnv): BaselineEnv {
  const secret = env.JWT_SECRET ?? '';
  if (Buffer.byteLength(secret) < 32) throw new Error('JWT_SECRET must be at least 32 bytes');
  return {
    port: Number(env.PORT ?? 4000),
    host: env.HOST ?? '127.0.0.1',
    secret: new TextEncoder().encode(secret),
    redisUrl: env.REDIS_URL?.trim() || null,
  };
}

export interface Author {
  id: string;
  name: string;
}

export async function verifyBearer(secret: Uint8Array, header: unknown): Promise<Author | null> {
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) return null;
  try {
    const { payload } = await jwtVerify(header.slice(7), secret, { algorithms: ['HS256'], requiredClaims: ['sub', 'exp'] });
    const id = payload.sub ?? '';
    return { id, name: typeof payload.name === 'string' ? payload.name : id };
  } catch {
    return null;
  }
}

export async function readJson(req: IncomingMessage, limit = 1_048_576): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) throw new Error('body too large');
    chunks.push(buf);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Stops on SIGTERM/SIGINT within a bound, so a harness kill never leaves a port taken: every socket terminated,
 * `alsoClose` run (e.g. Redis clients), the HTTP server closed.
 */
export function closeOnSignals(http: HttpServer, wss: WebSocketServer, alsoClose: () => void = () => undefined): void {
  const close = () =>
    new Promise<void>((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      alsoClose();
      http.close(() => resolve());
    });
  const stop = (): void => {
    setTimeout(() => process.exit(0), 2_000).unref();
    void close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
