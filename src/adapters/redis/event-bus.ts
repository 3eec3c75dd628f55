import type { Logger } from '../../chat/logger.ts';
import type { RoomEventBus } from '../../chat/ports/index.ts';
import type { RoomEvent } from '../../chat/types.ts';
import { decodeRoomEvent, encodeRoomEvent } from './codec.ts';
import type { HardenedRedisEventTarget } from './event-target.ts';
import type { Keys } from './keys.ts';

/** Thrown by the serializer so the event target drops the payload (pitfalls §2); never reaches a listener. */
class NotARoomEvent extends Error {
  override readonly name = 'NotARoomEvent';
}

export const roomEventSerializer = {
  stringify: (detail: unknown) => encodeRoomEvent(detail as RoomEvent),
  parse(raw: string): RoomEvent {
    const event = decodeRoomEvent(raw);
    if (!event) throw new NotARoomEvent(`not a room event: ${raw.slice(0, 80)}`);
    return event;
  },
};

/**
 * Rooms over the hardened event target: one channel per room (prefixed, pitfalls §7), events validated by the
 * codec. An event whose roomId is not the channel's room is dropped: it can only come from a foreign publisher.
 */
export function createRedisEventBus(target: HardenedRedisEventTarget<CustomEvent>, keys: Keys, logger: Logger): RoomEventBus {
  return {
    publish: (event) => target.publish(keys.roomChannel(event.roomId), event),
    subscribe(roomId, listener) {
      return target.listen(keys.roomChannel(roomId), {
        onMessage(detail) {
          const event = detail as RoomEvent;
          if (event.roomId !== roomId) {
            logger.warn({ roomId, eventRoomId: event.roomId }, 'dropped an event published on another room channel');
            return;
          }
          listener.onEvent(event);
        },
        onResubscribed: () => listener.onPossibleGap(),
      });
    },
    async close() {
      target.close();
    },
  };
}
