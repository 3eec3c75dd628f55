import type { PresenceStore } from '../../chat/ports/index.ts';
import type { Presence, User } from '../../chat/types.ts';

interface Member {
  user: User;
  since: string;
  connections: Set<string>;
}

/** One process holds every connection, so nothing can expire behind its back: `onExpired` never fires. */
export function createMemoryPresenceStore(): PresenceStore {
  const rooms = new Map<string, Map<string, Member>>();
  return {
    async join(roomId, user, connectionId, at) {
      let members = rooms.get(roomId);
      if (!members) rooms.set(roomId, (members = new Map()));
      const member = members.get(user.id);
      if (member) {
        member.connections.add(connectionId);
        return { first: false };
      }
      members.set(user.id, { user, since: at, connections: new Set([connectionId]) });
      return { first: true };
    },
    async leave(roomId, userId, connectionId) {
      const members = rooms.get(roomId);
      const member = members?.get(userId);
      if (!members || !member || !member.connections.delete(connectionId)) return { last: false };
      if (member.connections.size > 0) return { last: false };
      members.delete(userId);
      if (members.size === 0) rooms.delete(roomId);
      return { last: true };
    },
    async list(roomId) {
      const members = rooms.get(roomId);
      if (!members) return [];
      return [...members.values()].map(
        (member): Presence => ({ user: member.user, since: member.since, connections: member.connections.size }),
      );
    },
    onExpired() {},
    onRejoined() {},
    async close() {
      rooms.clear();
    },
  };
}
