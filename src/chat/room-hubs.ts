import { createTopicHubs, type TopicSink } from '../streams/topic-hubs.ts';
import type { ChatCounters } from './counters.ts';
import { ChatError } from './errors.ts';
import type { Logger } from './logger.ts';
import type { MessageStore, RoomEventBus } from './ports/index.ts';
import type { RoomEvent } from './types.ts';

/** A local subscriber of a room. */
export type HubSink = TopicSink<RoomEvent>;

export interface RoomHubsOptions {
  bus: RoomEventBus;
  store: MessageStore;
  logger: Logger;
  counters: ChatCounters;
  /** Messages read per history page when a gap is filled. @default 500 */
  pageSize?: number;
  /** Gap-fill attempts (a second apart) before the room's local subscribers are failed. @default 5 */
  fillAttempts?: number;
}

/**
 * One local fan-out point per room on this instance (`streams/topic-hubs.ts`): the room's bus subscription, its
 * messages in sequence order, gaps filled from the message store.
 */
export function createRoomHubs({ bus, store, logger, counters, pageSize, fillAttempts }: RoomHubsOptions) {
  return createTopicHubs<RoomEvent>({
    source: {
      subscribe: async (roomId, listener) => bus.subscribe(roomId, listener),
      head: async (roomId) => store.lastSeq(roomId),
      after: async (roomId, seq, limit) =>
        (await store.after(roomId, seq, limit)).map((message): RoomEvent => ({ kind: 'message', roomId, message })),
      seqOf: (event) => (event.kind === 'message' ? event.message.seq : null),
    },
    logger,
    failure: (_roomId, cause) => new ChatError('UNAVAILABLE', 'room history is unreachable; resubscribe with `after`', { cause }),
    onDispatch: (event, sinks) => {
      if (event.kind === 'message') counters.messagesOut += sinks;
    },
    ...(pageSize ? { pageSize } : {}),
    ...(fillAttempts ? { fillAttempts } : {}),
  });
}

export type RoomHubs = ReturnType<typeof createRoomHubs>;
