import type { RoomEventResolvers } from '../../resolvers-types.generated.ts';

const typenames = { message: 'MessageSent', joined: 'MemberJoined', left: 'MemberLeft', typing: 'TypingChanged' } as const;

export const resolveRoomEventType: RoomEventResolvers['__resolveType'] = (event) => typenames[event.kind];
