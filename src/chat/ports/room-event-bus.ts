import type { RoomEvent } from '../types.ts';

export interface RoomEventListener {
  onEvent(event: RoomEvent): void;
  /**
   * Events of the room may have been missed (the transport reconnected). The listener fills the gap
   * from the message store; presence and typing events lost meanwhile are not recoverable, by design.
   */
  onPossibleGap(): void;
}

/**
 * Fan-out of a room's events to every instance. At most once: a message event may be missed, which
 * the room sequence number makes visible, so delivery guarantees come from the message store, not from here.
 */
export interface RoomEventBus {
  /** Rejects with ChatError('UNAVAILABLE') when the event cannot be handed to the transport. */
  publish(event: RoomEvent): Promise<void>;
  /**
   * Resolves once the subscription is confirmed: every event published after that reaches the listener
   * (barring a reported gap). Listener exceptions are caught and logged, never thrown into the bus.
   */
  subscribe(roomId: string, listener: RoomEventListener): Promise<() => Promise<void>>;
  /** Releases connections and timers. */
  close(): Promise<void>;
}
