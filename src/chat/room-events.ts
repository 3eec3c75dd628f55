import { randomUUID } from 'node:crypto';
import { createEventQueue, type EventQueueOptions } from './event-queue.ts';
import { ChatError } from './errors.ts';
import type { Logger } from './logger.ts';
import { parseMessageSeq } from './message-id.ts';
import type { MessageStore } from './ports/index.ts';
import type { PresenceService } from './presence.ts';
import type { RoomHubs } from './room-hubs.ts';
import type { RoomService } from './rooms.ts';
import type { RoomEvent, Viewer } from './types.ts';

export interface RoomEventServiceOptions {
  rooms: RoomService;
  store: MessageStore;
  hubs: RoomHubs;
  presence: PresenceService;
  logger: Logger;
  queue?: Pick<EventQueueOptions, 'dropEphemeralAbove' | 'maxQueued'>;
  /** Messages read per page during an `after` replay. @default 500 */
  replayPageSize?: number;
}

export interface OpenRoomEventsInput {
  roomId: string;
  /** Replay every stored message newer than this id first. */
  after?: string | null;
}

/**
 * A room's ordered event stream for one subscriber, whatever the transport: live as soon as it resolves,
 * the viewer counted present until the iterator is returned, and with `after` a replay that meets the live
 * stream with no gap and no duplicate.
 */
export function createRoomEventService({
  rooms,
  store,
  hubs,
  presence,
  logger,
  queue: queueOptions,
  replayPageSize = 500,
}: RoomEventServiceOptions) {
  let open = 0;

  return {
    /** Open roomEvents streams on this instance. */
    get openCount() {
      return open;
    },

    async open(viewer: Viewer, { roomId, after }: OpenRoomEventsInput): Promise<AsyncIterableIterator<RoomEvent>> {
      await rooms.require(viewer, roomId);
      const afterSeq = after ? parseMessageSeq(roomId, after) : null;
      const user = { id: viewer.id, name: viewer.name };
      const connectionId = randomUUID();
      let joined = false;
      let detach = () => {};

      const queue = createEventQueue({
        ...queueOptions,
        onClose: () => {
          open -= 1;
          detach();
          if (joined) {
            presence.leave(roomId, user, connectionId).catch((error: unknown) =>
              logger.warn({ roomId, userId: user.id, err: error }, 'presence leave failed'),
            );
          }
        },
      });
      open += 1;

      // Live events wait here while history is replayed; `null` once the replay has caught up.
      let held: RoomEvent[] | null = afterSeq === null ? null : [];
      let replayedUpTo = 0;
      const sink = (event: RoomEvent) => {
        if (held) held.push(event);
        else if (event.kind !== 'message' || event.message.seq > replayedUpTo) queue.push(event);
      };
      const fail = (error: unknown) =>
        queue.fail(new ChatError('UNAVAILABLE', 'room history is unreachable; resubscribe with `after`', { cause: error }));

      try {
        const attachment = await hubs.attach(roomId, sink, fail);
        detach = attachment.detach;
        // A cursor past the newest stored message (history lost or a forged id) would make the seam filter drop
        // every live message up to it, silently. Read after attaching, so a cursor just received is never newer.
        if (afterSeq !== null && afterSeq > (await store.lastSeq(roomId))) {
          throw new ChatError('BAD_USER_INPUT', `"${after}" is newer than the newest message of room ${roomId}`);
        }
        await presence.join(roomId, user, connectionId);
        joined = true;
        if (afterSeq !== null) {
          replayedUpTo = afterSeq;
          for (;;) {
            const page = await store.after(roomId, replayedUpTo, replayPageSize);
            for (const message of page) queue.push({ kind: 'message', roomId, message });
            if (page.length === 0) break;
            replayedUpTo = (page.at(-1) as (typeof page)[number]).seq;
          }
          const live = held as RoomEvent[];
          held = null;
          for (const event of live) sink(event);
        }
      } catch (error) {
        await queue.return();
        throw error;
      }
      return queue;
    },
  };
}

export type RoomEventService = ReturnType<typeof createRoomEventService>;
