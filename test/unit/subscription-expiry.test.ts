import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ExecutionResult } from 'graphql';
import { createSchema, createYoga, type Plugin, type YogaInitialContext } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import type { Viewer } from '../../src/chat/types.ts';
import { DeadlineScheduler } from '../../src/deadline-scheduler.ts';
import { ExpiringStream, useSubscriptionTokenExpiry, type Expirable } from '../../src/graphql/subscription-expiry.ts';
import { within } from '../utils/wait.ts';

// A full collection on demand, without starting the test process with --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** WeakRefs are held until the current job ends: let it end, then collect. */
async function collect(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}

/** A one-field subscription over Yoga with the expiry plugin as the app installs it, for a viewer whose token lasts. */
function serve(subscribe: () => AsyncIterator<{ n: number }>, track: Plugin = {}) {
  const viewer: Viewer = { id: 'u', name: 'U', roles: [], expiresAt: Date.now() + 3_600_000 };
  const schema = createSchema<YogaInitialContext & { viewer: Viewer }>({
    typeDefs: 'type Query { ok: Boolean } type Tick { n: Int! } type Subscription { ticks: Tick! }',
    resolvers: { Subscription: { ticks: { subscribe: () => ({ [Symbol.asyncIterator]: subscribe }), resolve: (tick: unknown) => tick } } },
  });
  const yoga = createYoga({ schema, logging: false, context: () => ({ viewer }), plugins: [useSubscriptionTokenExpiry(), track] });
  const abort = new AbortController();
  let response: Promise<Response> | null = Promise.resolve(
    yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'subscription { ticks { n } }' }),
      signal: abort.signal,
    }),
  );
  /** Reads the stream until `until(nextEvents)` holds (or the stream ends); returns what it read. */
  const read = async (until: (nextEvents: number) => boolean): Promise<{ events: number; text: string }> => {
    const reader = (await response)!.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    let events = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        // Nothing of the ended response stays reachable from here: what remains is what the server keeps.
        response = null;
        return { events, text };
      }
      events += value.split('event: next').length - 1;
      text += value;
      if (until(events)) {
        reader.releaseLock();
        return { events, text };
      }
    }
  };
  return { read, stop: () => abort.abort() };
}

describe('SSE token expiry (subscription-expiry.ts)', () => {
  it('keeps no delivered result alive while the subscription stays open (pitfalls §28)', { timeout: 60_000 }, async () => {
    const EVENTS = 20_000;
    let release: () => void = () => undefined;
    const idle = new Promise<IteratorResult<{ n: number }>>((resolve) => (release = () => resolve({ value: undefined, done: true })));
    let sent = 0;
    const results: Array<WeakRef<ExecutionResult>> = [];
    const track: Plugin = {
      onSubscribe: () => ({
        onSubscribeResult: () => ({ onNext: ({ result }) => void results.push(new WeakRef(result as ExecutionResult)) }),
      }),
    };
    const { read, stop } = serve(
      () => ({
        next: () => (sent < EVENTS ? Promise.resolve({ value: { n: sent++ }, done: false }) : idle),
        return: () => (release(), idle),
      }),
      track,
    );
    try {
      await within(
        read((events) => events >= EVENTS),
        50_000,
        `${EVENTS} events`,
      );
      expect(results).toHaveLength(EVENTS);
      // Still open and waiting for the next event: every result delivered so far is garbage now.
      await collect();
      const alive = results.filter((ref) => ref.deref() !== undefined).length;
      expect(alive).toBeLessThanOrEqual(2);
    } finally {
      stop();
      release();
    }
  });

  it('ends a stream whose source failed for good: its deadline is forgotten and fires nothing later', async () => {
    const scheduler = new DeadlineScheduler<Expirable>((item) => item.expire());
    let returned = 0;
    const failing: AsyncIterator<ExecutionResult> = {
      next: () => Promise.reject(new Error('source failed')),
      return: () => ((returned += 1), Promise.resolve({ value: undefined, done: true })),
    };
    const stream = new ExpiringStream(failing, Date.now() + 20, scheduler);
    await expect(stream.next()).rejects.toThrow('source failed');
    expect(scheduler.size).toBe(0);
    // A later deadline on the same timer: once it fires, the stream's own (earlier) one would have fired too.
    const passed = new Promise<void>((resolve) =>
      scheduler.schedule({ deadlineAt: 0, deadlineIndex: -1, expire: resolve }, Date.now() + 40),
    );
    await within(passed, 5_000, 'the deadline to pass');
    // No UNAUTHENTICATED result after the failure: the stream is over.
    expect(await stream.next()).toEqual({ value: undefined, done: true });
    expect(returned).toBe(0);
    scheduler.stop();
  });

  it('wakes an idle read at the deadline with UNAUTHENTICATED, then ends and returns its source', async () => {
    const scheduler = new DeadlineScheduler<Expirable>((item) => item.expire());
    let returned = 0;
    const idle: AsyncIterator<ExecutionResult> = {
      next: () => new Promise(() => undefined),
      return: () => ((returned += 1), Promise.resolve({ value: undefined, done: true })),
    };
    const stream = new ExpiringStream(idle, Date.now() + 20, scheduler);
    const step = await within(stream.next(), 5_000, 'the expiry');
    expect(JSON.parse(JSON.stringify(step))).toEqual({
      done: false,
      value: { errors: [{ message: 'token expired: subscribe again with a fresh token', extensions: { code: 'UNAUTHENTICATED' } }] },
    });
    expect(await stream.next()).toEqual({ value: undefined, done: true });
    expect(returned).toBe(1);
    expect(scheduler.size).toBe(0);
  });
});
