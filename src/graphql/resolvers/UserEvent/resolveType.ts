import type { UserEventResolvers } from '../../resolvers-types.generated.ts';

const typenames = { roomAvailable: 'RoomAvailable', mentioned: 'Mentioned' } as const;

export const resolveUserEventType: UserEventResolvers['__resolveType'] = (event) => typenames[event.kind];
