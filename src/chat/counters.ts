/** Plain counters on the hot path (an increment, nothing more); metrics and serverStats read them. */
export interface ChatCounters {
  messagesIn: number;
  messagesOut: number;
}

export const createChatCounters = (): ChatCounters => ({ messagesIn: 0, messagesOut: 0 });

/**
 * Per-room activity on this instance, for the dashboard's busiest rooms: the domain reports what happened and
 * knows nothing of who counts it. Calls are synchronous and cheap (a map update), and must not throw.
 */
export interface RoomActivityObserver {
  /** sendMessage stored a new message (not a retry answered from history). */
  messageAccepted(roomId: string): void;
  /** One roomEvents subscription of `userId` is now counted present (per subscription, not per user). */
  memberJoined(roomId: string, userId: string): void;
  /** That subscription ended (its presence leave is on its way to the store). */
  memberLeft(roomId: string, userId: string): void;
}

export const NO_ROOM_ACTIVITY: RoomActivityObserver = {
  messageAccepted: () => undefined,
  memberJoined: () => undefined,
  memberLeft: () => undefined,
};
