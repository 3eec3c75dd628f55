import type { Logger } from '../../chat/logger.ts';
import type { RoomEventBus, RoomEventListener } from '../../chat/ports/index.ts';

/** In-process fan-out: synchronous, so it can never miss or reorder an event. */
export function createMemoryEventBus(logger: Logger): RoomEventBus {
  const listeners = new Map<string, Set<RoomEventListener>>();
  return {
    async publish(event) {
      const set = listeners.get(event.roomId);
      if (!set) return;
      for (const listener of set) {
        try {
          listener.onEvent(event);
        } catch (error) {
          logger.error({ roomId: event.roomId, err: error }, 'room event listener threw');
        }
      }
    },
    async subscribe(roomId, listener) {
      let set = listeners.get(roomId);
      if (!set) listeners.set(roomId, (set = new Set()));
      set.add(listener);
      return async () => {
        set.delete(listener);
        if (set.size === 0 && listeners.get(roomId) === set) listeners.delete(roomId);
      };
    },
    async close() {
      listeners.clear();
    },
  };
}
