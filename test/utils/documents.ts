import { expect } from 'vitest';
import { gql, type GraphQLResponse } from './http-client.ts';

export const CREATE_DOCUMENT = /* GraphQL */ `
  mutation ($roomId: ID!, $title: String!, $text: String) {
    createDocument(roomId: $roomId, title: $title, text: $text) {
      id
      roomId
      title
      text
      version
      createdAt
    }
  }
`;

export const EDIT_DOCUMENT = /* GraphQL */ `
  mutation ($documentId: ID!, $baseVersion: Int!, $operation: [TextOpInput!]!, $clientEditId: ID) {
    editDocument(documentId: $documentId, baseVersion: $baseVersion, operation: $operation, clientEditId: $clientEditId) {
      documentId
      version
      operation {
        retain
        insert
        delete
      }
      author {
        id
        name
      }
      clientEditId
      at
    }
  }
`;

export const DOCUMENT = /* GraphQL */ `
  query ($id: ID!) {
    document(id: $id) {
      id
      roomId
      title
      text
      version
    }
  }
`;

export const MOVE_CURSOR = /* GraphQL */ `
  mutation ($documentId: ID!, $version: Int!, $anchor: Int!, $head: Int!) {
    moveCursor(documentId: $documentId, version: $version, anchor: $anchor, head: $head)
  }
`;

export interface OperationField {
  retain?: number | null;
  insert?: string | null;
  delete?: number | null;
}

export interface EditedPayload {
  documentId: string;
  version: number;
  operation: Array<{ retain: number | null; insert: string | null; delete: number | null }>;
  author: { id: string; name: string };
  clientEditId: string | null;
  at: string;
}

export async function createDocument(graphqlUrl: string, token: string, roomId: string, text = '', title = 'notes'): Promise<string> {
  const response = await gql<{ createDocument: { id: string } }>(graphqlUrl, CREATE_DOCUMENT, { roomId, title, text }, token);
  expect(response.errors).toBeUndefined();
  return response.data!.createDocument.id;
}

export function editDocumentHttp(
  graphqlUrl: string,
  token: string,
  documentId: string,
  baseVersion: number,
  operation: readonly OperationField[],
  clientEditId?: string,
): Promise<GraphQLResponse<{ editDocument: EditedPayload }>> {
  return gql<{ editDocument: EditedPayload }>(graphqlUrl, EDIT_DOCUMENT, { documentId, baseVersion, operation, clientEditId }, token);
}

export async function readDocument(graphqlUrl: string, token: string, id: string): Promise<{ text: string; version: number }> {
  const response = await gql<{ document: { text: string; version: number } }>(
    graphqlUrl,
    'query($id: ID!) { document(id: $id) { text version } }',
    { id },
    token,
  );
  expect(response.errors).toBeUndefined();
  return response.data!.document;
}

/** GraphQL components (one field non-null) as ot-text-unicode components. */
export const otComponents = (operation: EditedPayload['operation']) =>
  operation.map((c) => (c.insert !== null ? c.insert : c.retain !== null ? c.retain : { d: c.delete as number }));

export const DOCUMENT_EVENTS = /* GraphQL */ `
  subscription ($documentId: ID!, $afterVersion: Int) {
    documentEvents(documentId: $documentId, afterVersion: $afterVersion) {
      __typename
      ... on DocumentEdited {
        documentId
        version
        operation {
          retain
          insert
          delete
        }
        author {
          id
        }
        clientEditId
        at
      }
      ... on EditorJoined {
        documentId
        user {
          id
          name
        }
        at
      }
      ... on EditorLeft {
        documentId
        user {
          id
          name
        }
        at
      }
      ... on CursorMoved {
        documentId
        user {
          id
        }
        version
        anchor
        head
        at
      }
    }
  }
`;

/** The `documentEvents` payloads of subscription `id` on a raw client. */
export const documentEventsOf = (nexts: any[]): Array<Record<string, any>> => nexts.map((payload) => payload.data?.documentEvents);
