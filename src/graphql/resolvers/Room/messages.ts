import type { RoomResolvers } from '../../resolvers-types.generated.ts';

export const messages: NonNullable<RoomResolvers['messages']> = (room, { last, before }, ctx) =>
  ctx.chat.messages.history(room, last ?? 50, before);
