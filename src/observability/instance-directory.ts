import type { RoomFigures } from './room-activity.ts';

/**
 * Where each instance publishes its own dashboard figures so that `serverStats` and `dashboard` can show the
 * cluster. It lives in observability, not in `chat/ports`: it is about operating the servers, not about rooms and
 * messages, and the domain never reads it. `adapters/index.ts` picks the implementation with the other adapters.
 */
export interface InstanceFigures {
  connections: number;
  subscriptions: number;
  messagesPerSecond: number;
  deliveriesPerSecond: number;
}

/** What an instance writes once a second: the `serverStats` figures plus what only the `dashboard` shows. */
export interface InstanceRecord extends InstanceFigures {
  /** Event-loop delay over the last interval (99th percentile), in milliseconds. */
  eventLoopLagMs: number;
  rssBytes: number;
  /** This instance's active rooms (see `createRoomActivity`). */
  rooms: RoomFigures[];
}

export interface InstanceReport extends InstanceRecord {
  instanceId: string;
}

export interface InstanceDirectory {
  /** Publishes this instance's latest figures; an instance that stops reporting drops out of `list` by itself. */
  report(instanceId: string, record: InstanceRecord): Promise<void>;
  /** The latest report of every live instance (rejects when the shared store cannot be read). */
  list(): Promise<InstanceReport[]>;
  /** Takes this instance out at once (graceful shutdown), instead of waiting for its report to expire. */
  remove(instanceId: string): Promise<void>;
}

/** A cluster of one: the embedded (no REDIS_URL) mode. */
export function createLocalInstanceDirectory(): InstanceDirectory {
  const reports = new Map<string, InstanceReport>();
  return {
    async report(instanceId, record) {
      reports.set(instanceId, { instanceId, ...record });
    },
    async list() {
      return [...reports.values()];
    },
    async remove(instanceId) {
      reports.delete(instanceId);
    },
  };
}
