import { requireViewer } from '../../context.ts';
import type { QueryResolvers } from '../../resolvers-types.generated.ts';

export const room: NonNullable<QueryResolvers['room']> = async (_parent, { id }, ctx) => ctx.chat.rooms.find(requireViewer(ctx), id);
