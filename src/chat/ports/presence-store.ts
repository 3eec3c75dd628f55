import type { Presence, User } from '../types.ts';

/**
 * Who has a roomEvents subscription open, counted per user over every connection, transport and instance.
 * `connectionId` names one subscription and is unique cluster-wide.
 */
export interface PresenceStore {
  /** `first` is true when the user had no other open connection to the room anywhere. */
  join(roomId: string, user: User, connectionId: string, at: string): Promise<{ first: boolean }>;
  /** `last` is true when this was the user's final connection to the room anywhere. */
  leave(roomId: string, userId: string, connectionId: string): Promise<{ last: boolean }>;
  list(roomId: string): Promise<Presence[]>;
  /**
   * Called once per user whose last connection to a room disappeared without a `leave` (its instance died),
   * by exactly one surviving instance. Stores that cannot lose instances never call it.
   */
  onExpired(handler: (roomId: string, user: User) => void): void;
  /**
   * Called when a connection of this instance had been taken for gone (reaped while the instance was frozen or
   * cut off) and was registered again as the user's first in the room, at `at`. Stores that cannot lose
   * connections never call it.
   */
  onRejoined(handler: (roomId: string, user: User, at: string) => void): void;
  close(): Promise<void>;
}
