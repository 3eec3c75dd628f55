import { requireViewer } from '../../context.ts';
import type { MutationResolvers } from '../../resolvers-types.generated.ts';

export const sendMessage: NonNullable<MutationResolvers['sendMessage']> = async (_parent, args, ctx) =>
  ctx.chat.messages.send(requireViewer(ctx), args);
