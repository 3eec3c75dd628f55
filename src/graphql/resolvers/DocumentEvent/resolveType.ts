import type { DocumentEventResolvers } from '../../resolvers-types.generated.ts';

const typenames = { editorJoined: 'EditorJoined', editorLeft: 'EditorLeft', cursor: 'CursorMoved' } as const;

/** An edit is the committed `DocumentEdit` (no `kind`, as editDocument returns it); the others carry their kind. */
export const resolveDocumentEventType: DocumentEventResolvers['__resolveType'] = (event) =>
  'kind' in event ? typenames[event.kind] : 'DocumentEdited';
