import { requireViewer } from '../../context.ts';
import type { MutationResolvers } from '../../resolvers-types.generated.ts';

export const editDocument: NonNullable<MutationResolvers['editDocument']> = async (_parent, args, ctx) =>
  ctx.documents.edit(requireViewer(ctx), args);
