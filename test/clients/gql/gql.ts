/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query Rooms {\n    rooms {\n      id\n      name\n      online {\n        user {\n          id\n          name\n        }\n        connections\n      }\n    }\n  }\n": typeof types.RoomsDocument,
    "\n  query RoomOnline($id: ID!) {\n    room(id: $id) {\n      id\n      online {\n        user {\n          id\n        }\n      }\n    }\n  }\n": typeof types.RoomOnlineDocument,
    "\n  mutation CreateRoom($name: String!) {\n    createRoom(name: $name) {\n      id\n      name\n    }\n  }\n": typeof types.CreateRoomDocument,
    "\n  mutation SendMessage($roomId: ID!, $body: String!, $clientMessageId: ID) {\n    sendMessage(roomId: $roomId, body: $body, clientMessageId: $clientMessageId) {\n      id\n      body\n      sentAt\n    }\n  }\n": typeof types.SendMessageDocument,
    "\n  subscription RoomEvents($roomId: ID!, $after: ID) {\n    roomEvents(roomId: $roomId, after: $after) {\n      __typename\n      ... on MessageSent {\n        message {\n          id\n          body\n          author {\n            id\n          }\n        }\n      }\n      ... on MemberJoined {\n        user {\n          id\n          name\n        }\n      }\n      ... on MemberLeft {\n        user {\n          id\n        }\n      }\n      ... on TypingChanged {\n        user {\n          id\n        }\n        typing\n      }\n    }\n  }\n": typeof types.RoomEventsDocument,
};
const documents: Documents = {
    "\n  query Rooms {\n    rooms {\n      id\n      name\n      online {\n        user {\n          id\n          name\n        }\n        connections\n      }\n    }\n  }\n": types.RoomsDocument,
    "\n  query RoomOnline($id: ID!) {\n    room(id: $id) {\n      id\n      online {\n        user {\n          id\n        }\n      }\n    }\n  }\n": types.RoomOnlineDocument,
    "\n  mutation CreateRoom($name: String!) {\n    createRoom(name: $name) {\n      id\n      name\n    }\n  }\n": types.CreateRoomDocument,
    "\n  mutation SendMessage($roomId: ID!, $body: String!, $clientMessageId: ID) {\n    sendMessage(roomId: $roomId, body: $body, clientMessageId: $clientMessageId) {\n      id\n      body\n      sentAt\n    }\n  }\n": types.SendMessageDocument,
    "\n  subscription RoomEvents($roomId: ID!, $after: ID) {\n    roomEvents(roomId: $roomId, after: $after) {\n      __typename\n      ... on MessageSent {\n        message {\n          id\n          body\n          author {\n            id\n          }\n        }\n      }\n      ... on MemberJoined {\n        user {\n          id\n          name\n        }\n      }\n      ... on MemberLeft {\n        user {\n          id\n        }\n      }\n      ... on TypingChanged {\n        user {\n          id\n        }\n        typing\n      }\n    }\n  }\n": types.RoomEventsDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Rooms {\n    rooms {\n      id\n      name\n      online {\n        user {\n          id\n          name\n        }\n        connections\n      }\n    }\n  }\n"): (typeof documents)["\n  query Rooms {\n    rooms {\n      id\n      name\n      online {\n        user {\n          id\n          name\n        }\n        connections\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RoomOnline($id: ID!) {\n    room(id: $id) {\n      id\n      online {\n        user {\n          id\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query RoomOnline($id: ID!) {\n    room(id: $id) {\n      id\n      online {\n        user {\n          id\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateRoom($name: String!) {\n    createRoom(name: $name) {\n      id\n      name\n    }\n  }\n"): (typeof documents)["\n  mutation CreateRoom($name: String!) {\n    createRoom(name: $name) {\n      id\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SendMessage($roomId: ID!, $body: String!, $clientMessageId: ID) {\n    sendMessage(roomId: $roomId, body: $body, clientMessageId: $clientMessageId) {\n      id\n      body\n      sentAt\n    }\n  }\n"): (typeof documents)["\n  mutation SendMessage($roomId: ID!, $body: String!, $clientMessageId: ID) {\n    sendMessage(roomId: $roomId, body: $body, clientMessageId: $clientMessageId) {\n      id\n      body\n      sentAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription RoomEvents($roomId: ID!, $after: ID) {\n    roomEvents(roomId: $roomId, after: $after) {\n      __typename\n      ... on MessageSent {\n        message {\n          id\n          body\n          author {\n            id\n          }\n        }\n      }\n      ... on MemberJoined {\n        user {\n          id\n          name\n        }\n      }\n      ... on MemberLeft {\n        user {\n          id\n        }\n      }\n      ... on TypingChanged {\n        user {\n          id\n        }\n        typing\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription RoomEvents($roomId: ID!, $after: ID) {\n    roomEvents(roomId: $roomId, after: $after) {\n      __typename\n      ... on MessageSent {\n        message {\n          id\n          body\n          author {\n            id\n          }\n        }\n      }\n      ... on MemberJoined {\n        user {\n          id\n          name\n        }\n      }\n      ... on MemberLeft {\n        user {\n          id\n        }\n      }\n      ... on TypingChanged {\n        user {\n          id\n        }\n        typing\n      }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;