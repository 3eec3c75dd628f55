/** Plain counters on the hot path (an increment, nothing more); metrics and serverStats read them. */
export interface ChatCounters {
  messagesIn: number;
  messagesOut: number;
}

export const createChatCounters = (): ChatCounters => ({ messagesIn: 0, messagesOut: 0 });
