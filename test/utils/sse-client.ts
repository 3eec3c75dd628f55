import { onTestFinished } from 'vitest';
import { within } from './wait.ts';

export interface SseEvent {
  /** The `event:` field (`next`, `complete`), or `message` when absent. */
  event: string;
  data: string;
}

export interface SseSubscription {
  /** HTTP status of the response. */
  status: number;
  contentType: string | null;
  /** Every event received, in order (comment lines such as keep-alive pings are left out). */
  events: SseEvent[];
  /** Parsed `data` of the `next` events, in order. */
  nexts(): any[];
  waitForNexts(count: number, timeoutMs?: number): Promise<any[]>;
  /** Resolves when the server ends the stream (a `complete` event or the end of the body). */
  ended: Promise<void>;
  /** Aborts the HTTP request, as a browser tab closing does; resolves once the reader has stopped. */
  close(): Promise<void>;
}

export interface SseOptions {
  token?: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
}

/**
 * A GraphQL-over-SSE client on fetch (Yoga's default subscription transport, "distinct connections" mode):
 * one HTTP request per operation, ended by aborting it. Aborted after the test, pass or fail.
 */
export async function subscribeSse(
  graphqlUrl: string,
  query: string,
  variables: Record<string, unknown> = {},
  { token, method = 'POST', headers = {} }: SseOptions = {},
): Promise<SseSubscription> {
  const abort = new AbortController();
  onTestFinished(() => abort.abort());
  const requestHeaders: Record<string, string> = {
    accept: 'text/event-stream',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...headers,
  };
  let url = graphqlUrl;
  let body: string | undefined;
  if (method === 'GET') {
    const params = new URLSearchParams({ query, variables: JSON.stringify(variables) });
    url = `${graphqlUrl}?${params}`;
  } else {
    requestHeaders['content-type'] = 'application/json';
    body = JSON.stringify({ query, variables });
  }
  const response = await within(
    fetch(url, { method, headers: requestHeaders, ...(body === undefined ? {} : { body }), signal: abort.signal }),
    5_000,
    'SSE response headers',
  );

  const events: SseEvent[] = [];
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of listeners) listener();
  };
  let finished = false;

  const read = async () => {
    if (!response.body) return;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let boundary: number;
        while ((boundary = buffer.search(/\r?\n\r?\n/)) >= 0) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary).replace(/^\r?\n\r?\n/, '');
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split(/\r?\n/)) {
            if (line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const fieldValue = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'event') event = fieldValue;
            else if (field === 'data') data.push(fieldValue);
          }
          if (event === 'message' && data.length === 0) continue;
          events.push({ event, data: data.join('\n') });
          notify();
          if (event === 'complete') return;
        }
      }
    } catch {
      // Aborted by `close()` or by the server going away: either way the stream is over.
    } finally {
      finished = true;
      notify();
    }
  };
  const ended = read();

  const nexts = () => events.filter((e) => e.event === 'next').map((e) => JSON.parse(e.data));
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    events,
    nexts,
    async waitForNexts(count, timeoutMs = 5_000) {
      await within(
        new Promise<void>((resolve, reject) => {
          const check = () => {
            if (nexts().length >= count) {
              listeners.delete(check);
              resolve();
            } else if (finished) {
              listeners.delete(check);
              reject(new Error(`SSE stream ended with ${JSON.stringify(events)}`));
            }
          };
          listeners.add(check);
          check();
        }),
        timeoutMs,
        `${count} SSE next events`,
      ).catch((error: Error) => {
        throw new Error(`${error.message}: got ${JSON.stringify(events)}`);
      });
      return nexts();
    },
    ended,
    async close() {
      abort.abort();
      await within(ended, 5_000, 'SSE reader to stop');
    },
  };
}
