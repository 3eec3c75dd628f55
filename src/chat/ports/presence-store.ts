import type { Presence, User } from '../types.ts';

/**
 * Who has a roomEvents subscription open, counted per user over every connection, transport and instance.
 * `connectionId` names one subscription and is unique cluster-wide.
 *
 * The store announces its own transitions: the MemberJoined / MemberLeft of a user in a room is published on
 * the room's event bus by the same atomic step that records the transition, so the events of one user in one
 * room reach every subscriber in the order the transitions happened (never a MemberLeft after the MemberJoined
 * that followed it), and a recorded first connection is never left unannounced.
 */
export interface PresenceStore {
  /**
   * `first` is true when the user had no other open connection to the room anywhere; MemberJoined (at `at`) is
   * then published with it. Rejects with ChatError('UNAVAILABLE') and records nothing when either step fails.
   */
  join(roomId: string, user: User, connectionId: string, at: string): Promise<{ first: boolean }>;
  /**
   * `last` is true when this was the user's final connection to the room anywhere; MemberLeft (at `at`) is then
   * published with it. The connection is forgotten even when the announcement cannot be published.
   */
  leave(roomId: string, user: User, connectionId: string, at: string): Promise<{ last: boolean }>;
  list(roomId: string): Promise<Presence[]>;
  /**
   * Called (after its MemberLeft was published) once per user whose last connection to a room disappeared
   * without a `leave` (its instance died), by exactly one surviving instance. Stores that cannot lose instances
   * never call it. For logs and tests: the announcement is the store's.
   */
  onExpired(handler: (roomId: string, user: User) => void): void;
  /**
   * Called (after its MemberJoined was published) when a connection of this instance had been taken for gone
   * (reaped while the instance was frozen or cut off) and was registered again as the user's first in the room,
   * at `at`. Stores that cannot lose connections never call it.
   */
  onRejoined(handler: (roomId: string, user: User, at: string) => void): void;
  close(): Promise<void>;
}
