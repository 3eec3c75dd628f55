import { requireViewer } from '../../context.ts';
import type { MutationResolvers } from '../../resolvers-types.generated.ts';

export const setTyping: NonNullable<MutationResolvers['setTyping']> = async (_parent, { roomId, typing }, ctx) =>
  ctx.chat.typing.set(requireViewer(ctx), roomId, typing);
