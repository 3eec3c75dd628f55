import type { RoomResolvers } from '../../resolvers-types.generated.ts';

export const online: NonNullable<RoomResolvers['online']> = async (room, _args, ctx) => ctx.chat.presence.online(room.id);
