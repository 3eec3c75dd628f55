import { requireViewer } from '../../context.ts';
import type { MutationResolvers } from '../../resolvers-types.generated.ts';

export const createRoom: NonNullable<MutationResolvers['createRoom']> = async (_parent, args, ctx) =>
  ctx.chat.rooms.create(requireViewer(ctx), args);
