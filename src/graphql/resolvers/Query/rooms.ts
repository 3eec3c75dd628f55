import { requireViewer } from '../../context.ts';
import type { QueryResolvers } from '../../resolvers-types.generated.ts';

export const rooms: NonNullable<QueryResolvers['rooms']> = async (_parent, { first, after }, ctx) =>
  ctx.chat.rooms.list(requireViewer(ctx), { first, after });
