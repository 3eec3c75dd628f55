import type { RoomResolvers } from '../../resolvers-types.generated.ts';

export const messages: NonNullable<RoomResolvers['messages']> = async (room, { last, before }, ctx) =>
  ctx.chat.messages.history(room, last ?? 50, before);
