import type { UserEventBus } from '../../chat/ports/index.ts';
import type { UserEvent } from '../../chat/types.ts';
import type { HardenedRedisEventTarget } from './event-target.ts';
import type { Keys } from './keys.ts';
import { decodeUserEvent, encodeUserEvent } from './user-event-codec.ts';

class NotAUserEvent extends Error {
  override readonly name = 'NotAUserEvent';
}

/** Thrown on parse so the event target drops the payload (pitfalls §2); never reaches a listener. */
export const userEventSerializer = {
  stringify: (detail: unknown) => encodeUserEvent(detail as UserEvent),
  parse(raw: string): UserEvent {
    const event = decodeUserEvent(raw);
    if (!event) throw new NotAUserEvent(`not a user event: ${raw.slice(0, 80)}`);
    return event;
  },
};

/**
 * User events over their own hardened event target: a channel per user (prefixed, pitfalls §7), subscribed only
 * while that user has a userEvents subscription on this instance, and one broadcast channel for public rooms. A
 * resubscription after a reconnect reports nothing: user events are not replayed (contract).
 */
export function createRedisUserEventBus(target: HardenedRedisEventTarget<CustomEvent>, keys: Keys): UserEventBus {
  const listen = (topic: string, listener: { onEvent(event: UserEvent): void }) =>
    target.listen(topic, { onMessage: (detail) => listener.onEvent(detail as UserEvent), onResubscribed: () => undefined });
  return {
    publishToUser: (userId, event) => target.publish(keys.userChannel(userId), event),
    publishToAll: (event) => target.publish(keys.everyoneChannel, event),
    subscribeToUser: (userId, listener) => listen(keys.userChannel(userId), listener),
    subscribeToAll: (listener) => listen(keys.everyoneChannel, listener),
    async close() {
      target.close();
    },
  };
}
