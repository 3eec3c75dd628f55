/**
 * Where each instance publishes its own dashboard figures so that `serverStats` can sum them over the cluster.
 * It lives in observability, not in `chat/ports`: it is about operating the servers, not about rooms and
 * messages, and the domain never reads it. `adapters/index.ts` picks the implementation with the other adapters.
 */
export interface InstanceFigures {
  connections: number;
  subscriptions: number;
  messagesPerSecond: number;
  deliveriesPerSecond: number;
}

export interface InstanceReport extends InstanceFigures {
  instanceId: string;
}

export interface InstanceDirectory {
  /** Publishes this instance's latest figures; an instance that stops reporting drops out of `list` by itself. */
  report(instanceId: string, figures: InstanceFigures): Promise<void>;
  /** The latest report of every live instance (rejects when the shared store cannot be read). */
  list(): Promise<InstanceReport[]>;
  /** Takes this instance out at once (graceful shutdown), instead of waiting for its report to expire. */
  remove(instanceId: string): Promise<void>;
}

/** A cluster of one: the embedded (no REDIS_URL) mode. */
export function createLocalInstanceDirectory(): InstanceDirectory {
  const reports = new Map<string, InstanceReport>();
  return {
    async report(instanceId, figures) {
      reports.set(instanceId, { instanceId, ...figures });
    },
    async list() {
      return [...reports.values()];
    },
    async remove(instanceId) {
      reports.delete(instanceId);
    },
  };
}
