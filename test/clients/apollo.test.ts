import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { isSubscriptionOperation } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import { describe, it } from 'vitest';
import WebSocket from 'ws';
import { chatsThroughTheLibrary, resumesAfterARestart, type ClientOptions, type LibraryClient } from './harness.ts';
import { CREATE_ROOM, ROOM_EVENTS, ROOM_ONLINE, ROOMS, SEND_MESSAGE } from './operations.ts';

// GraphQLWsLink tells a socket error by `WebSocket.CLOSED`, a global Node 20 lacks: without it, a refused reconnect
// throws a ReferenceError out of graphql-ws's sink (the README says the same to Node apps).
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

/** Apollo Client as an application sets it up: HTTP for queries and mutations, graphql-ws for subscriptions. */
export function createApollo({ httpUrl, wsUrl, token }: ClientOptions) {
  const wsClient = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    // Called on every (re)connection, so an expired token (close 4403) is replaced, not replayed.
    connectionParams: async () => ({ authorization: `Bearer ${await token()}` }),
    // Resubscribing is the app's job: it must add `after` (see watchRoom), which graphql-ws's retry cannot.
    retryAttempts: 0,
  });
  const auth = new SetContextLink(async () => ({ headers: { authorization: `Bearer ${await token()}` } }));
  const link = ApolloLink.split(
    ({ query }) => isSubscriptionOperation(query),
    new GraphQLWsLink(wsClient),
    auth.concat(new HttpLink({ uri: httpUrl })),
  );
  const apollo = new ApolloClient({
    link,
    cache: new InMemoryCache({
      // Fragments on a union need its members (graphql-codegen's fragment-matcher plugin can generate this).
      possibleTypes: { RoomEvent: ['MessageSent', 'MemberJoined', 'MemberLeft', 'TypingChanged'] },
    }),
  });
  return { apollo, wsClient };
}

function apolloLibraryClient(options: ClientOptions): LibraryClient {
  const { apollo, wsClient } = createApollo(options);
  return {
    async rooms() {
      const { data } = await apollo.query({ query: ROOMS, fetchPolicy: 'network-only' });
      if (!data) throw new Error('no data');
      return data.rooms;
    },
    async online(roomId) {
      const { data } = await apollo.query({ query: ROOM_ONLINE, variables: { id: roomId }, fetchPolicy: 'network-only' });
      return data?.room?.online.map((p) => p.user.id) ?? [];
    },
    async createRoom(name) {
      const { data } = await apollo.mutate({ mutation: CREATE_ROOM, variables: { name } });
      if (!data) throw new Error('no data');
      return { id: data.createRoom.id, name: data.createRoom.name };
    },
    async send(roomId, body, clientMessageId) {
      const { data } = await apollo.mutate({ mutation: SEND_MESSAGE, variables: { roomId, body, clientMessageId } });
      if (!data) throw new Error('no data');
      return { id: data.sendMessage.id, body: data.sendMessage.body };
    },
    subscribe(variables, sink) {
      // `no-cache`: events are a stream, not entities to normalise.
      const subscription = apollo.subscribe({ query: ROOM_EVENTS, variables, fetchPolicy: 'no-cache' }).subscribe({
        next: ({ data, error }) => {
          if (error) return sink.end(error);
          if (data) sink.next(data.roomEvents);
        },
        error: (error: unknown) => sink.end(error),
        complete: () => sink.end('complete'),
      });
      return () => subscription.unsubscribe();
    },
    async dispose() {
      apollo.stop();
      await wsClient.dispose();
    },
  };
}

describe('Apollo Client 4 (HttpLink + GraphQLWsLink)', () => {
  it('queries rooms, sends a message, receives it on roomEvents and sees presence', async () => {
    await chatsThroughTheLibrary(apolloLibraryClient);
  });

  it('reconnects with a fresh token after a server restart and resumes with `after`, losing nothing', async () => {
    await resumesAfterARestart(apolloLibraryClient);
  });
});
