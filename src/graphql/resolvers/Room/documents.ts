import type { RoomResolvers } from '../../resolvers-types.generated.ts';

// The Room was resolved for this viewer, so access is already checked.
export const documents: NonNullable<RoomResolvers['documents']> = async (room, _args, ctx) => ctx.documents.listForRoom(room);
