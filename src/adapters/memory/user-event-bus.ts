import type { Logger } from '../../chat/logger.ts';
import type { UserEventBus, UserEventListener } from '../../chat/ports/index.ts';
import type { UserEvent } from '../../chat/types.ts';

/** In-process fan-out: synchronous, so it can never miss or reorder an event. */
export function createMemoryUserEventBus(logger: Logger): UserEventBus {
  const byUser = new Map<string, Set<UserEventListener>>();
  const everyone = new Set<UserEventListener>();

  const deliver = (listeners: Iterable<UserEventListener>, event: UserEvent) => {
    for (const listener of listeners) {
      try {
        listener.onEvent(event);
      } catch (error) {
        logger.error({ kind: event.kind, err: error }, 'user event listener threw');
      }
    }
  };

  return {
    async publishToUser(userId, event) {
      const set = byUser.get(userId);
      if (set) deliver([...set], event);
    },
    async publishToAll(event) {
      deliver([...everyone], event);
    },
    async subscribeToUser(userId, listener) {
      let set = byUser.get(userId);
      if (!set) byUser.set(userId, (set = new Set()));
      set.add(listener);
      return async () => {
        set.delete(listener);
        if (set.size === 0 && byUser.get(userId) === set) byUser.delete(userId);
      };
    },
    async subscribeToAll(listener) {
      everyone.add(listener);
      return async () => {
        everyone.delete(listener);
      };
    },
    async close() {
      byUser.clear();
      everyone.clear();
    },
  };
}
