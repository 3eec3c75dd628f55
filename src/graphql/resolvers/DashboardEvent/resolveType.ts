import type { DashboardEventResolvers } from '../../resolvers-types.generated.ts';

const typenames = { snapshot: 'DashboardSnapshot', delta: 'DashboardDelta' } as const;

export const resolveDashboardEventType: DashboardEventResolvers['__resolveType'] = (event) => typenames[event.kind];
