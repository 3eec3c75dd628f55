import { setTimeout as sleep } from 'node:timers/promises';
import { ChatError } from '../../../chat/errors.ts';
import { requireViewer } from '../../context.ts';
import type { ServerStatsSnapshot } from '../../mappers.ts';
import type { SubscriptionResolvers } from '../../resolvers-types.generated.ts';

export const serverStats: NonNullable<SubscriptionResolvers['serverStats']> = {
  subscribe: (_parent, _args, ctx) => {
    if (!requireViewer(ctx).roles.includes('admin')) {
      throw new ChatError('FORBIDDEN', 'serverStats needs a token whose roles claim holds "admin"');
    }
    const { stats } = ctx;
    const abort = new AbortController();
    async function* snapshots(): AsyncGenerator<ServerStatsSnapshot> {
      try {
        for (;;) {
          yield await stats.snapshot();
          await sleep(1_000, undefined, { signal: abort.signal });
        }
      } catch (error) {
        if (!abort.signal.aborted) throw error;
      }
    }
    const iterator = snapshots();
    const end = iterator.return.bind(iterator);
    // A pending sleep would keep `return()` waiting a second; aborting it ends the stream at once.
    iterator.return = async (value) => {
      abort.abort();
      return end(value);
    };
    return iterator;
  },
  resolve: (snapshot: ServerStatsSnapshot) => snapshot,
};
