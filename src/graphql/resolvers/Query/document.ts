import { requireViewer } from '../../context.ts';
import type { QueryResolvers } from '../../resolvers-types.generated.ts';

export const document: NonNullable<QueryResolvers['document']> = async (_parent, { id }, ctx) => ctx.documents.find(requireViewer(ctx), id);
