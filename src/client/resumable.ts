import type { Client, FormattedExecutionResult, Sink, SubscribePayload } from 'graphql-ws';
import { planResume, type Cursor, type ResumePlan } from './resume-plan.ts';
import { createRefreshTimer, MIN_RETRY_MS, systemClock, tokenExpiry, type RefreshClock } from './token-refresh.ts';

export interface ResumableOptions {
  /**
   * The app's token source, the same function its `createClient({ connectionParams })` calls (graphql-ws calls
   * that on every reconnection; a wrapper cannot change it afterwards). With it the helper sends
   * `refreshToken(token)` over the open socket before the socket's token expires, so the server never closes it
   * with 4403. It should return a token that lives longer than the one before (its `exp` is read, not verified).
   */
  getToken?: () => string | Promise<string>;
  /** @internal Timers for the refresh schedule; tests pass a fake clock. @default the system clock */
  clock?: RefreshClock;
}

const REFRESH_TOKEN = 'mutation ResumableRefreshToken($token: String!) { refreshToken(token: $token) { userId expiresAt } }';

/** Plans are pure functions of the document: kept per client, bounded, since apps send a handful of documents. */
const MAX_PLANS = 200;

/**
 * Wraps a graphql-ws `Client` so that its own retries (on by default) lose nothing: every `roomEvents`
 * subscription re-sends `after: <last message it delivered>` when graphql-ws resubscribes after a reconnect,
 * and `documentEvents` `afterVersion: <last version>`; an event at or before that cursor (an overlap) is dropped.
 * When graphql-ws itself gives up on a lost connection (see `isTransient`), the helper subscribes again, with backoff.
 *
 * graphql-ws re-sends the very payload object it was given on every retry (pitfalls §26), so the helper gives it
 * one of its own and writes the cursor into that object's `variables` as events arrive. The app's document need not
 * declare the variable or select the message id: the helper adds both when missing and removes the added selection
 * from each event before the app sees it. Other operations pass through untouched.
 */
export function resumable(client: Client, { getToken, clock = systemClock }: ResumableOptions = {}): Client {
  const plans = new Map<string, ResumePlan | null>();
  const planFor = (payload: SubscribePayload): ResumePlan | null => {
    if (!payload.query) return null;
    const key = `${payload.operationName ?? ''}\n${payload.query}`;
    let plan = plans.get(key);
    if (plan === undefined) {
      plan = planResume(payload.query, payload.operationName);
      if (plans.size >= MAX_PLANS) plans.clear();
      plans.set(key, plan);
    }
    return plan;
  };

  function subscribe<Data = Record<string, unknown>, Extensions = unknown>(
    payload: SubscribePayload,
    sink: Sink<FormattedExecutionResult<Data, Extensions>>,
  ): () => void {
    const plan = planFor(payload);
    if (!plan) return client.subscribe(payload, sink);
    const variables: Record<string, unknown> = { ...payload.variables };
    if (plan.literalCursor !== undefined && variables[plan.variable] == null) variables[plan.variable] = plan.literalCursor;
    const start = variables[plan.variable];
    let last: Cursor | undefined = typeof start === 'string' || typeof start === 'number' ? start : undefined;
    const resumed: SubscribePayload = { ...payload, query: plan.query, variables };
    let stopped = false;
    let attempt = 0;
    let retry: unknown;
    let unsubscribe = () => {};
    const open = () => {
      if (stopped) return;
      unsubscribe = client.subscribe<Data, Extensions>(resumed, {
        next(result) {
          attempt = 0;
          const cursor = plan.cursorOf(result.data);
          if (cursor !== undefined) {
            if (last !== undefined && plan.compare(cursor, last) <= 0) return;
            last = cursor;
            variables[plan.variable] = cursor;
          }
          plan.strip(result.data);
          sink.next(result);
        },
        error(error) {
          if (stopped) return;
          if (!isTransient(error)) return sink.error(error);
          // graphql-ws gave up (see isTransient): subscribe again with the same payload, whose cursor is current.
          retry = clock.setTimeout(open, Math.min(1_000 * 2 ** attempt, 30_000) * (0.5 + Math.random() / 2));
          attempt += 1;
        },
        complete: () => {
          if (!stopped) sink.complete();
        },
      });
    };
    open();
    return () => {
      stopped = true;
      clock.clearTimeout(retry);
      unsubscribe();
    };
  }

  const stopRefreshing = getToken ? refreshInBand(client, getToken, clock) : () => {};

  return {
    on: client.on,
    subscribe,
    iterate: <Data = Record<string, unknown>, Extensions = unknown>(payload: SubscribePayload) =>
      iterate<FormattedExecutionResult<Data, Extensions>>((sink) => subscribe<Data, Extensions>(payload, sink)),
    terminate: () => client.terminate(),
    dispose() {
      stopRefreshing();
      return client.dispose();
    },
  };
}

/**
 * Keeps the open socket's token fresh with `refreshToken` (CONTRACT: In-band token refresh). On each connection
 * the deadline is taken from the token `getToken` returns then (the one `connectionParams` just sent, or one
 * minted a moment later: the schedule leaves room for that); after each refresh, from the token sent.
 * Any failure is left alone: the server closes the socket with 4403 at expiry, graphql-ws reconnects with a
 * fresh token from `connectionParams`, and the subscriptions resume with their cursors, so nothing is lost.
 */
function refreshInBand(client: Client, getToken: () => string | Promise<string>, clock: RefreshClock): () => void {
  // Bumped on every connect and close, so a token fetched for a socket that is gone is not used on the next.
  let socket = 0;
  let deadline: number | undefined;
  const timer = createRefreshTimer(clock, () => void refresh(socket));

  async function refresh(generation: number) {
    const token = await Promise.resolve()
      .then(getToken)
      .catch(() => undefined);
    const expiresAt = token === undefined ? undefined : tokenExpiry(token);
    if (generation !== socket || token === undefined || expiresAt === undefined) return;
    if (deadline !== undefined && expiresAt <= deadline) {
      // Not a longer-lived token (yet): ask again later, while there is time.
      const remaining = deadline - clock.now();
      if (remaining / 2 >= MIN_RETRY_MS) timer.schedule(deadline);
      return;
    }
    client.subscribe(
      { query: REFRESH_TOKEN, operationName: 'ResumableRefreshToken', variables: { token } },
      {
        next(result) {
          if (generation !== socket || result.errors?.length) return;
          deadline = expiresAt;
          timer.schedule(expiresAt);
        },
        error: () => undefined,
        complete: () => undefined,
      },
    );
  }

  async function arm(generation: number) {
    const token = await Promise.resolve()
      .then(getToken)
      .catch(() => undefined);
    const expiresAt = token === undefined ? undefined : tokenExpiry(token);
    if (generation !== socket || expiresAt === undefined) return;
    deadline = expiresAt;
    timer.schedule(expiresAt);
  }

  const offConnected = client.on('connected', () => {
    socket += 1;
    deadline = undefined;
    void arm(socket);
  });
  const offClosed = client.on('closed', () => {
    socket += 1;
    deadline = undefined;
    timer.cancel();
  });
  return () => {
    offConnected();
    offClosed();
    socket += 1;
    timer.cancel();
  };
}

/** Close codes after which graphql-ws's client retries (pitfalls §13), i.e. a network or server hiccup. */
const TRANSIENT_CLOSE_CODES = new Set([1001, 1006, 1012, 1013, 1014]);

/**
 * Whether an operation's error is a lost connection rather than an answer. graphql-ws ends an operation on an
 * `error` event (a refused connection, or an HTTP 502 from a proxy while the server restarts: its default
 * `shouldRetry` accepts close events only) and when `retryAttempts` run out; the helper subscribes again after
 * those. GraphQL errors (an array), auth (4403 after every retry) and fatal close codes reach the app.
 */
function isTransient(error: unknown): boolean {
  if (Array.isArray(error)) return false;
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'number' && 'reason' in error) {
    return TRANSIENT_CLOSE_CODES.has(error.code);
  }
  return true;
}

/** graphql-ws's own `iterate`, over the wrapped `subscribe` (the client's would bypass the wrapper). */
function iterate<T>(subscribe: (sink: Sink<T>) => () => void): AsyncIterableIterator<T> {
  const pending: T[] = [];
  let done = false;
  let failure: { error: unknown } | undefined;
  let wake = () => {};
  const dispose = subscribe({
    next(value) {
      pending.push(value);
      wake();
    },
    error(error) {
      done = true;
      failure = { error };
      wake();
    },
    complete() {
      done = true;
      wake();
    },
  });
  const iterator = (async function* () {
    for (;;) {
      if (pending.length === 0 && !done) await new Promise<void>((resolve) => (wake = resolve));
      while (pending.length > 0) yield pending.shift() as T;
      if (failure) throw failure.error;
      if (done) return;
    }
  })();
  iterator.return = async () => {
    dispose();
    done = true;
    wake();
    return { done: true, value: undefined };
  };
  return iterator;
}
