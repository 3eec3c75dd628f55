import { graphql } from './gql/index.ts';

// The operations a real client sends, typed by graphql-codegen's client preset (`npm run codegen`) from the same
// schema the server is built from: a schema change that breaks a client breaks `npm run typecheck`.

export const ROOMS = graphql(`
  query Rooms {
    rooms {
      id
      name
      online {
        user {
          id
          name
        }
        connections
      }
    }
  }
`);

export const ROOM_ONLINE = graphql(`
  query RoomOnline($id: ID!) {
    room(id: $id) {
      id
      online {
        user {
          id
        }
      }
    }
  }
`);

export const CREATE_ROOM = graphql(`
  mutation CreateRoom($name: String!) {
    createRoom(name: $name) {
      id
      name
    }
  }
`);

export const SEND_MESSAGE = graphql(`
  mutation SendMessage($roomId: ID!, $body: String!, $clientMessageId: ID) {
    sendMessage(roomId: $roomId, body: $body, clientMessageId: $clientMessageId) {
      id
      body
      sentAt
    }
  }
`);

export const ROOM_EVENTS = graphql(`
  subscription RoomEvents($roomId: ID!, $after: ID) {
    roomEvents(roomId: $roomId, after: $after) {
      __typename
      ... on MessageSent {
        message {
          id
          body
          author {
            id
          }
        }
      }
      ... on MemberJoined {
        user {
          id
          name
        }
      }
      ... on MemberLeft {
        user {
          id
        }
      }
      ... on TypingChanged {
        user {
          id
        }
        typing
      }
    }
  }
`);
