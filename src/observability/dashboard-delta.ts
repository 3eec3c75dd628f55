import type { ServerStatsSnapshot } from './server-stats.ts';

/** One instance's line on the dashboard (GraphQL `InstanceStats`). */
export interface InstanceStatsEntry {
  id: string;
  connections: number;
  subscriptions: number;
  messagesPerSecond: number;
  deliveriesPerSecond: number;
  eventLoopLagMs: number;
  rssBytes: number;
}

/** One of the busiest rooms (GraphQL `RoomStats`). */
export interface RoomStatsEntry {
  roomId: string;
  name: string;
  online: number;
  messagesPerSecond: number;
}

/** What a new subscriber's snapshot shows at `at`: the state every delta is computed against. */
export interface DashboardView {
  at: string;
  totals: ServerStatsSnapshot;
  instances: InstanceStatsEntry[];
  rooms: RoomStatsEntry[];
}

export interface DashboardSnapshotEvent extends DashboardView {
  kind: 'snapshot';
}

export interface DashboardDeltaEvent extends DashboardView {
  kind: 'delta';
  removedInstances: string[];
  removedRooms: string[];
}

export type DashboardEventModel = DashboardSnapshotEvent | DashboardDeltaEvent;

const sameFields = <T extends object>(a: T, b: T): boolean => (Object.keys(a) as Array<keyof T>).every((key) => a[key] === b[key]);

function diff<T extends object>(before: readonly T[], after: readonly T[], idOf: (entry: T) => string) {
  const previous = new Map(before.map((entry) => [idOf(entry), entry]));
  const changed = after.filter((entry) => {
    const was = previous.get(idOf(entry));
    return !was || !sameFields(was, entry);
  });
  const present = new Set(after.map(idOf));
  const removed = before.map(idOf).filter((id) => !present.has(id));
  return { changed, removed };
}

/**
 * The delta that takes a subscriber from the view it was last sent to `next`: entries that are new or whose
 * figures differ, and the ids of entries gone. Applying it (replace by id, drop the removed) yields `next`
 * exactly, which is the contract's "applying each delta to the snapshot gives what a new snapshot would show".
 */
export function dashboardDelta(sent: DashboardView, next: DashboardView): DashboardDeltaEvent {
  const instances = diff(sent.instances, next.instances, (entry) => entry.id);
  const rooms = diff(sent.rooms, next.rooms, (entry) => entry.roomId);
  return {
    kind: 'delta',
    at: next.at,
    totals: next.totals,
    instances: instances.changed,
    rooms: rooms.changed,
    removedInstances: instances.removed,
    removedRooms: rooms.removed,
  };
}
