import type { UserEvent } from '../../../chat/types.ts';
import { requireViewer } from '../../context.ts';
import type { SubscriptionResolvers } from '../../resolvers-types.generated.ts';

export const userEvents: NonNullable<SubscriptionResolvers['userEvents']> = {
  subscribe: async (_parent, _args, ctx) => ctx.chat.userEvents.open(requireViewer(ctx)),
  // The stream yields bare events (one object for every local subscriber of a user), not `{ userEvents: event }`.
  resolve: (event: UserEvent) => event,
};
