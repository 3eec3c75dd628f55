import type { Resolvers } from '../resolvers-types.generated.ts';
import { DateTime } from '../scalars.ts';
import { resolveDashboardEventType } from './DashboardEvent/resolveType.ts';
import { editors } from './Document/editors.ts';
import { operation } from './DocumentEdited/operation.ts';
import { resolveDocumentEventType } from './DocumentEvent/resolveType.ts';
import { createDocument } from './Mutation/createDocument.ts';
import { createRoom } from './Mutation/createRoom.ts';
import { editDocument } from './Mutation/editDocument.ts';
import { moveCursor } from './Mutation/moveCursor.ts';
import { refreshToken } from './Mutation/refreshToken.ts';
import { sendMessage } from './Mutation/sendMessage.ts';
import { setTyping } from './Mutation/setTyping.ts';
import { document } from './Query/document.ts';
import { me } from './Query/me.ts';
import { room } from './Query/room.ts';
import { rooms } from './Query/rooms.ts';
import { documents } from './Room/documents.ts';
import { messages } from './Room/messages.ts';
import { online } from './Room/online.ts';
import { resolveRoomEventType } from './RoomEvent/resolveType.ts';
import { dashboard } from './Subscription/dashboard.ts';
import { documentEvents } from './Subscription/documentEvents.ts';
import { roomEvents } from './Subscription/roomEvents.ts';
import { serverStats } from './Subscription/serverStats.ts';
import { userEvents } from './Subscription/userEvents.ts';
import { resolveUserEventType } from './UserEvent/resolveType.ts';

// Types not listed here resolve their fields by name from the domain objects (their mappers).
export const resolvers: Resolvers = {
  DateTime,
  Query: { me, rooms, room, document },
  Mutation: { createRoom, sendMessage, setTyping, createDocument, editDocument, moveCursor, refreshToken },
  Subscription: { roomEvents, serverStats, dashboard, documentEvents, userEvents },
  Room: { online, messages, documents },
  Document: { editors },
  DocumentEdited: { operation },
  DocumentEvent: { __resolveType: resolveDocumentEventType },
  RoomEvent: { __resolveType: resolveRoomEventType },
  DashboardEvent: { __resolveType: resolveDashboardEventType },
  UserEvent: { __resolveType: resolveUserEventType },
};
