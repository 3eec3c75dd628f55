import { ChatError } from '../../../chat/errors.ts';
import { requireViewer } from '../../context.ts';
import type { DashboardEventModel } from '../../mappers.ts';
import type { SubscriptionResolvers } from '../../resolvers-types.generated.ts';

export const dashboard: NonNullable<SubscriptionResolvers['dashboard']> = {
  subscribe: (_parent, _args, ctx) => {
    if (!requireViewer(ctx).roles.includes('admin')) {
      throw new ChatError('FORBIDDEN', 'dashboard needs a token whose roles claim holds "admin"');
    }
    return ctx.dashboard.subscribe();
  },
  resolve: (event: DashboardEventModel) => event,
};
