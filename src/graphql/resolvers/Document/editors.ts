import type { DocumentResolvers } from '../../resolvers-types.generated.ts';

// Read access was checked where the document was found (Query.document, Room.documents).
export const editors: NonNullable<DocumentResolvers['editors']> = async (document, _args, ctx) => ctx.documents.editors(document.id);
