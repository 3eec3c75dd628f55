import { requireViewer } from '../../context.ts';
import type { MutationResolvers } from '../../resolvers-types.generated.ts';

export const moveCursor: NonNullable<MutationResolvers['moveCursor']> = async (_parent, args, ctx) =>
  ctx.documents.moveCursor(requireViewer(ctx), args);
