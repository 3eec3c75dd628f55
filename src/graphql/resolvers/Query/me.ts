import { requireViewer } from '../../context.ts';
import type { QueryResolvers } from '../../resolvers-types.generated.ts';

export const me: NonNullable<QueryResolvers['me']> = (_parent, _args, ctx) => {
  const { id, name } = requireViewer(ctx);
  return { id, name };
};
