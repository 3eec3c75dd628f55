import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import { describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { resumable } from '../../src/client/index.ts';
import { createRoom, user } from '../utils/chat.ts';
import { freePort } from '../utils/free-port.ts';
import { startTestApp } from '../utils/test-app.ts';
import { waitFor } from '../utils/wait.ts';
import { fakeClock } from './fake-clock.ts';

// What resumable() subscribes again after, and what it must not: each case counts the subscribes it makes on the
// wrapped client. Its backoff runs on a fake clock, so "no retry" is checked by running the clock past any backoff
// (the longest is 30 s), not by waiting.

const WATCH = 'subscription($roomId: ID!) { roomEvents(roomId: $roomId) { __typename } }';

/** A graphql-ws client that counts the subscribes made on it; graphql-ws's own retries off, so each one is resumable()'s. */
function countingClient(url: string, token: string) {
  const inner = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` } });
  onTestFinished(() => Promise.resolve(inner.dispose()).catch(() => undefined));
  let subscribes = 0;
  const client: Client = {
    ...inner,
    subscribe(payload, sink) {
      subscribes += 1;
      return inner.subscribe(payload, sink);
    },
  };
  return { client, subscribes: () => subscribes };
}

function watch(client: Client, roomId: string) {
  const seen: { errors: unknown[]; results: FormattedExecutionResult<Record<string, unknown>, unknown>[]; completed: number } = {
    errors: [],
    results: [],
    completed: 0,
  };
  const stop = client.subscribe(
    { query: WATCH, variables: { roomId } },
    { next: (result) => seen.results.push(result), error: (error) => seen.errors.push(error), complete: () => (seen.completed += 1) },
  );
  return { seen, stop };
}

describe('resumable(): retries a lost connection, nothing else, and never after stop()', () => {
  it('subscribes again after a refused connection, with backoff (so the check below can fail)', async () => {
    const clock = fakeClock();
    const { client, subscribes } = countingClient(`ws://127.0.0.1:${await freePort()}/graphql`, 'unused');
    const { seen, stop } = watch(resumable(client, { clock }), 'r_any');
    onTestFinished(stop);
    await waitFor(() => clock.pending().length === 1, 5_000, 'a resubscription to be scheduled');
    expect(subscribes()).toBe(1);
    clock.advance(30_000);
    expect(subscribes()).toBe(2);
    expect(seen.errors).toEqual([]);
  });

  it('stop() cancels a pending resubscription: no subscribe after it', async () => {
    const clock = fakeClock();
    const { client, subscribes } = countingClient(`ws://127.0.0.1:${await freePort()}/graphql`, 'unused');
    const { seen, stop } = watch(resumable(client, { clock }), 'r_any');
    await waitFor(() => clock.pending().length === 1, 5_000, 'a resubscription to be scheduled');
    stop();
    expect(clock.pending()).toEqual([]);
    clock.advance(10 * 60_000);
    expect(subscribes()).toBe(1);
    expect(seen.errors).toEqual([]);
  });

  // The server answers a refused roomEvents with one result carrying `errors`, then `complete` (graphql-ws's way for
  // an error from a subscription's source); Apollo hands it to the app as `error`, urql as `result.error`.
  it.each([
    ['NOT_FOUND', 'a room that does not exist'],
    ['FORBIDDEN', 'a private room the user is not a member of'],
  ])('passes %s (%s) to the app once and does not subscribe again', async (code) => {
    const server = await startTestApp();
    const [alice, bob] = await Promise.all([user('alice'), user('bob')]);
    const roomId = code === 'NOT_FOUND' ? 'r_missing' : await createRoom(server.graphqlUrl, alice.token, { private: true });
    const clock = fakeClock();
    const { client, subscribes } = countingClient(server.wsUrl, bob.token);
    const { seen, stop } = watch(resumable(client, { clock }), roomId);
    onTestFinished(stop);
    await waitFor(() => seen.completed > 0 || seen.errors.length > 0, 5_000, `the ${code} answer`);
    expect(seen.results).toEqual([{ errors: [expect.objectContaining({ extensions: { code } })] }]);
    expect(seen.completed).toBe(1);
    expect(clock.pending()).toEqual([]);
    clock.advance(10 * 60_000);
    expect(subscribes()).toBe(1);
    expect(seen).toMatchObject({ errors: [], completed: 1 });
    expect(seen.results).toHaveLength(1);
  });
});
