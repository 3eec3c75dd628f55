import { requireViewer } from '../../context.ts';
import type { MutationResolvers } from '../../resolvers-types.generated.ts';

export const createDocument: NonNullable<MutationResolvers['createDocument']> = async (_parent, args, ctx) =>
  ctx.documents.create(requireViewer(ctx), args);
