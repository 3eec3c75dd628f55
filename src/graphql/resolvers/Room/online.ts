import type { RoomResolvers } from '../../resolvers-types.generated.ts';

export const online: NonNullable<RoomResolvers['online']> = (room, _args, ctx) => ctx.chat.presence.online(room.id);
