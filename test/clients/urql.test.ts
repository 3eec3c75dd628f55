import { Client, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient } from 'graphql-ws';
import { describe, it } from 'vitest';
import WebSocket from 'ws';
import { chatsThroughTheLibrary, resumesAfterARestart, type ClientOptions, type LibraryClient } from './harness.ts';
import { CREATE_ROOM, ROOM_EVENTS, ROOM_ONLINE, ROOMS, SEND_MESSAGE } from './operations.ts';

/** urql as an application sets it up: fetchExchange for queries and mutations, graphql-ws for subscriptions. */
export function createUrql({ httpUrl, wsUrl, token }: ClientOptions) {
  const wsClient = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    // Called on every (re)connection, so an expired token (close 4403) is replaced, not replayed.
    connectionParams: async () => ({ authorization: `Bearer ${await token()}` }),
    // Resubscribing is the app's job: it must add `after` (see watchRoom), which graphql-ws's retry cannot.
    retryAttempts: 0,
  });
  const urql = new Client({
    url: httpUrl,
    // `fetchOptions` is synchronous; an async token source goes in a fetch wrapper.
    fetch: async (input, init) =>
      fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), authorization: `Bearer ${await token()}` } }),
    exchanges: [
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: wsClient.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
    ],
  });
  return { urql, wsClient };
}

function urqlLibraryClient(options: ClientOptions): LibraryClient {
  const { urql, wsClient } = createUrql(options);
  return {
    async rooms() {
      const { data, error } = await urql.query(ROOMS, {}, { requestPolicy: 'network-only' }).toPromise();
      if (!data) throw error ?? new Error('no data');
      return data.rooms;
    },
    async online(roomId) {
      const { data } = await urql.query(ROOM_ONLINE, { id: roomId }, { requestPolicy: 'network-only' }).toPromise();
      return data?.room?.online.map((p) => p.user.id) ?? [];
    },
    async createRoom(name) {
      const { data, error } = await urql.mutation(CREATE_ROOM, { name }).toPromise();
      if (!data) throw error ?? new Error('no data');
      return data.createRoom;
    },
    async send(roomId, body, clientMessageId) {
      const { data, error } = await urql.mutation(SEND_MESSAGE, { roomId, body, clientMessageId }).toPromise();
      if (!data) throw error ?? new Error('no data');
      return { id: data.sendMessage.id, body: data.sendMessage.body };
    },
    subscribe(variables, sink) {
      // urql turns a closed socket into a result with `error.networkError`; the operation is over then.
      const subscription = urql.subscription(ROOM_EVENTS, variables).subscribe(({ data, error }) => {
        if (error) return sink.end(error);
        if (data) sink.next(data.roomEvents);
      });
      return () => subscription.unsubscribe();
    },
    async dispose() {
      await wsClient.dispose();
    },
  };
}

describe('urql 6 (fetchExchange + subscriptionExchange over graphql-ws)', () => {
  it('queries rooms, sends a message, receives it on roomEvents and sees presence', async () => {
    await chatsThroughTheLibrary(urqlLibraryClient);
  });

  it('reconnects with a fresh token after a server restart and resumes with `after`, losing nothing', async () => {
    await resumesAfterARestart(urqlLibraryClient);
  });
});
