import type { RoomEvent } from '../../../chat/types.ts';
import { requireViewer } from '../../context.ts';
import type { SubscriptionResolvers } from '../../resolvers-types.generated.ts';

export const roomEvents: NonNullable<SubscriptionResolvers['roomEvents']> = {
  subscribe: async (_parent, { roomId, after }, ctx) => ctx.chat.roomEvents.open(requireViewer(ctx), { roomId, after }),
  // The stream yields bare events (one object shared by every subscriber), not `{ roomEvents: event }` wrappers.
  resolve: (event: RoomEvent) => event,
};
