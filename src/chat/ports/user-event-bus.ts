import type { UserEvent } from '../types.ts';

export interface UserEventListener {
  onEvent(event: UserEvent): void;
}

/**
 * Fan-out of per-user events to every instance: one channel per user, and one broadcast channel for what everyone
 * may see (a public room). At most once, no replay (contract: user events are not replayed; the room list and
 * `room.messages` are the source of truth), so there is no gap report.
 */
export interface UserEventBus {
  /** Rejects with ChatError('UNAVAILABLE') when the event cannot be handed to the transport. */
  publishToUser(userId: string, event: UserEvent): Promise<void>;
  /** To every instance's listeners of `subscribeToAll`: one publish whatever the number of users. */
  publishToAll(event: UserEvent): Promise<void>;
  /** Resolves once the subscription is confirmed. Listener exceptions are caught and logged. */
  subscribeToUser(userId: string, listener: UserEventListener): Promise<() => Promise<void>>;
  subscribeToAll(listener: UserEventListener): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
