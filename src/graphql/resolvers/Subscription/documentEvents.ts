import type { DocumentEvent } from '../../../documents/types.ts';
import { requireViewer } from '../../context.ts';
import type { SubscriptionResolvers } from '../../resolvers-types.generated.ts';

export const documentEvents: NonNullable<SubscriptionResolvers['documentEvents']> = {
  subscribe: async (_parent, { documentId, afterVersion }, ctx) =>
    ctx.documents.events.open(requireViewer(ctx), { documentId, afterVersion }),
  // The stream yields bare events (one object shared by every local subscriber); an edit is `DocumentEdited` itself.
  resolve: (event: DocumentEvent) => (event.kind === 'edited' ? event.edit : event),
};
