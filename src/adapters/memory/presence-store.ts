import type { PresenceStore, RoomEventBus } from '../../chat/ports/index.ts';
import type { Presence, RoomEvent, User } from '../../chat/types.ts';

interface Member {
  user: User;
  since: string;
  /**
   * The user's connections in the room: the one id a member usually has, a Set only from the second on (a Set
   * costs ~150 bytes, and every idle subscribed socket is a member).
   */
  connections: string | Set<string>;
}

const connectionCount = ({ connections }: Member) => (typeof connections === 'string' ? 1 : connections.size);

function addConnection(member: Member, connectionId: string): void {
  const { connections } = member;
  if (typeof connections !== 'string') connections.add(connectionId);
  else if (connections !== connectionId) member.connections = new Set([connections, connectionId]);
}

/** Removes one connection; false when the member did not hold it. */
function removeConnection(member: Member, connectionId: string): boolean {
  const { connections } = member;
  if (typeof connections !== 'string') return connections.delete(connectionId);
  if (connections !== connectionId) return false;
  member.connections = new Set();
  return true;
}

/**
 * One process holds every connection, so nothing can expire behind its back: `onExpired` never fires. Each
 * transition is announced on the in-process bus (synchronous) before `join`/`leave` return, so presence events
 * keep the order of the transitions, as the Redis store's scripts guarantee across instances.
 */
export function createMemoryPresenceStore(bus: RoomEventBus): PresenceStore {
  const rooms = new Map<string, Map<string, Member>>();

  /** Removes one connection; true when it was the user's last in the room. */
  const forget = (roomId: string, userId: string, connectionId: string): boolean => {
    const members = rooms.get(roomId);
    const member = members?.get(userId);
    if (!members || !member || !removeConnection(member, connectionId) || connectionCount(member) > 0) return false;
    members.delete(userId);
    if (members.size === 0) rooms.delete(roomId);
    return true;
  };

  const announce = async (event: RoomEvent, undo: () => void) => {
    try {
      await bus.publish(event);
    } catch (error) {
      undo();
      throw error;
    }
  };

  return {
    async join(roomId, user, connectionId, at) {
      let members = rooms.get(roomId);
      const member = members?.get(user.id);
      if (member) {
        addConnection(member, connectionId);
        return { first: false };
      }
      if (!members) rooms.set(roomId, (members = new Map()));
      members.set(user.id, { user, since: at, connections: connectionId });
      // The bus dispatches synchronously inside this call, so events keep the order of the transitions.
      await announce({ kind: 'joined', roomId, user, at }, () => void forget(roomId, user.id, connectionId));
      return { first: true };
    },
    async leave(roomId, user, connectionId, at) {
      if (!forget(roomId, user.id, connectionId)) return { last: false };
      // Forgotten whatever the bus says: a lost MemberLeft is better than a user who never leaves.
      await announce({ kind: 'left', roomId, user, at }, () => undefined);
      return { last: true };
    },
    async list(roomId) {
      const members = rooms.get(roomId);
      if (!members) return [];
      return [...members.values()].map((member): Presence => ({
        user: member.user,
        since: member.since,
        connections: connectionCount(member),
      }));
    },
    onExpired() {},
    onRejoined() {},
    async close() {
      rooms.clear();
    },
  };
}
