import type { RoomEvent, UserEvent } from '../chat/types.ts';
import type { DocumentEvent } from '../documents/types.ts';
export type { ServerStatsSnapshot } from '../observability/server-stats.ts';
export type {
  DashboardDeltaEvent,
  DashboardEventModel,
  DashboardSnapshotEvent,
  InstanceStatsEntry,
  RoomStatsEntry,
} from '../observability/dashboard-delta.ts';

/** The union members are the domain's RoomEvent variants, told apart by `kind` in `RoomEvent.__resolveType`. */
export type MessageSentEvent = Extract<RoomEvent, { kind: 'message' }>;
export type MemberJoinedEvent = Extract<RoomEvent, { kind: 'joined' }>;
export type MemberLeftEvent = Extract<RoomEvent, { kind: 'left' }>;
export type TypingChangedEvent = Extract<RoomEvent, { kind: 'typing' }>;

/** DocumentEvent members: the domain's variants; `DocumentEdited` is the edit itself (what editDocument returns). */
export type EditorJoinedEvent = Extract<DocumentEvent, { kind: 'editorJoined' }>;
export type EditorLeftEvent = Extract<DocumentEvent, { kind: 'editorLeft' }>;
export type CursorMovedEvent = Extract<DocumentEvent, { kind: 'cursor' }>;
/** The userEvents union members are the domain's UserEvent variants, told apart by `kind`. */
export type RoomAvailableEvent = Extract<UserEvent, { kind: 'roomAvailable' }>;
export type MentionedEvent = Extract<UserEvent, { kind: 'mentioned' }>;
