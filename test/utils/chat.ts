import { expect } from 'vitest';
import { gql, type GraphQLResponse } from './http-client.ts';
import { startTestApp } from './test-app.ts';
import { signTestToken } from './tokens.ts';
import { connectAuthed, type RawClient } from './ws-client.ts';

/** What a client selects from `roomEvents`: enough to assert exact payloads of every event kind. */
export const ROOM_EVENTS = /* GraphQL */ `
  subscription RoomEvents($roomId: ID!, $after: ID) {
    roomEvents(roomId: $roomId, after: $after) {
      __typename
      ... on MessageSent {
        message {
          id
          roomId
          author {
            id
            name
          }
          body
          clientMessageId
        }
      }
      ... on MemberJoined {
        roomId
        user {
          id
          name
        }
      }
      ... on MemberLeft {
        roomId
        user {
          id
          name
        }
      }
      ... on TypingChanged {
        roomId
        user {
          id
          name
        }
        typing
      }
    }
  }
`;

export const SEND_MESSAGE = /* GraphQL */ `
  mutation Send($roomId: ID!, $body: String!, $clientMessageId: ID) {
    sendMessage(roomId: $roomId, body: $body, clientMessageId: $clientMessageId) {
      id
      roomId
      author {
        id
        name
      }
      body
      clientMessageId
      sentAt
    }
  }
`;

export const CREATE_ROOM = /* GraphQL */ `
  mutation Create($name: String!, $private: Boolean, $members: [ID!]) {
    createRoom(name: $name, private: $private, members: $members) {
      id
      name
      private
      createdAt
    }
  }
`;

export const SET_TYPING = /* GraphQL */ `
  mutation Typing($roomId: ID!, $typing: Boolean!) {
    setTyping(roomId: $roomId, typing: $typing)
  }
`;

export interface SentMessage {
  id: string;
  roomId: string;
  author: { id: string; name: string };
  body: string;
  clientMessageId: string | null;
  sentAt?: string;
}

/** A roomEvents payload as selected by ROOM_EVENTS. */
export interface RoomEventPayload {
  __typename: 'MessageSent' | 'MemberJoined' | 'MemberLeft' | 'TypingChanged';
  message?: SentMessage;
  roomId?: string;
  user?: { id: string; name: string };
  typing?: boolean;
}

/** A user with a token whose `name` is the capitalised id. */
export async function user(id: string): Promise<{ id: string; name: string; token: string }> {
  const name = id.charAt(0).toUpperCase() + id.slice(1);
  return { id, name, token: await signTestToken({ sub: id, name }) };
}

export async function createRoom(
  graphqlUrl: string,
  token: string,
  input: { name?: string; private?: boolean; members?: string[] } = {},
): Promise<string> {
  const response = await gql<{ createRoom: { id: string } }>(graphqlUrl, CREATE_ROOM, { name: 'room', ...input }, token);
  expect(response.errors).toBeUndefined();
  return response.data!.createRoom.id;
}

export function sendHttp(
  graphqlUrl: string,
  token: string,
  roomId: string,
  body: string,
  clientMessageId?: string,
): Promise<GraphQLResponse<{ sendMessage: SentMessage }>> {
  return gql<{ sendMessage: SentMessage }>(graphqlUrl, SEND_MESSAGE, { roomId, body, clientMessageId }, token);
}

/** Sends and fails the test unless the message was accepted. */
export async function send(
  graphqlUrl: string,
  token: string,
  roomId: string,
  body: string,
  clientMessageId?: string,
): Promise<SentMessage> {
  const response = await sendHttp(graphqlUrl, token, roomId, body, clientMessageId);
  expect(response.errors).toBeUndefined();
  return response.data!.sendMessage;
}

/** The room's stored messages (up to 500), oldest first. */
export async function history(graphqlUrl: string, token: string, roomId: string, last = 500): Promise<SentMessage[]> {
  const response = await gql<{ room: { messages: SentMessage[] } | null }>(
    graphqlUrl,
    `query History($id: ID!, $last: Int) { room(id: $id) { messages(last: $last) { id roomId author { id name } body clientMessageId } } }`,
    { id: roomId, last },
    token,
  );
  expect(response.errors).toBeUndefined();
  return response.data!.room!.messages;
}

export async function online(
  graphqlUrl: string,
  token: string,
  roomId: string,
): Promise<Array<{ user: { id: string }; connections: number }>> {
  const response = await gql<{ room: { online: Array<{ user: { id: string }; connections: number }> } }>(
    graphqlUrl,
    `query Online($id: ID!) { room(id: $id) { online { user { id } connections } } }`,
    { id: roomId },
    token,
  );
  expect(response.errors).toBeUndefined();
  return response.data!.room.online;
}

/** The roomEvents payloads a raw WS client received for operation `id`. */
export const eventsOf = (client: RawClient, id: string): RoomEventPayload[] =>
  client.nexts(id).map((payload: { data: { roomEvents: RoomEventPayload } }) => payload.data.roomEvents);

export const messageIds = (events: RoomEventPayload[]): string[] =>
  events.filter((e) => e.__typename === 'MessageSent').map((e) => e.message!.id);

/** Reads one gauge or counter from the Prometheus text of `/metrics`. */
export async function metric(baseUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`metric ${name} not found`);
  return Number(line.slice(name.length + 1));
}

/** A fresh app and room, `alice` subscribed to it over WebSocket (operation id `s`) and live; `bob` a second user. */
export async function watchedRoom(env: Record<string, string> = {}) {
  const app = await startTestApp(env);
  const [alice, bob] = await Promise.all([user('alice'), user('bob')]);
  const roomId = await createRoom(app.graphqlUrl, alice.token);
  const observer = await connectAuthed(app.wsUrl, alice.token);
  observer.subscribe('s', ROOM_EVENTS, { roomId });
  await observer.waitForNexts('s', 1);
  return { app, alice, bob, roomId, observer };
}
