import type { RoomStore } from '../../chat/ports/index.ts';
import type { Room } from '../../chat/types.ts';

interface Entry {
  room: Room;
  /** Creation order, as the Redis store's counter. */
  order: number;
}

/** Entries of `list` (oldest first) created before `below`: how many there are. */
function countBelow(list: readonly Entry[], below: number): number {
  let [low, high] = [0, list.length];
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((list[middle] as Entry).order < below) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Indexed as the Redis store is: public rooms in one list and each private room in a list per member (creator
 * included), all in creation order, so a page is two binary searches and a merge of the page's length.
 */
export function createMemoryRoomStore(): RoomStore {
  const rooms = new Map<string, Entry>();
  const publicRooms: Entry[] = [];
  const privateRooms = new Map<string, Entry[]>();
  let order = 0;

  return {
    async create(room) {
      const entry = { room, order: ++order };
      rooms.set(room.id, entry);
      if (!room.private) {
        publicRooms.push(entry);
        return;
      }
      for (const userId of new Set([room.createdBy, ...room.members])) {
        const list = privateRooms.get(userId);
        if (list) list.push(entry);
        else privateRooms.set(userId, [entry]);
      }
    },
    async get(id) {
      return rooms.get(id)?.room ?? null;
    },
    async listVisibleTo(userId, { first, after }) {
      const own = privateRooms.get(userId) ?? [];
      let below = Number.POSITIVE_INFINITY;
      if (after) {
        const cursor = rooms.get(after);
        const visible = cursor && (cursor.room.private ? own[countBelow(own, cursor.order)] === cursor : true);
        if (!cursor || !visible) return null;
        below = cursor.order;
      }
      let i = countBelow(publicRooms, below) - 1;
      let j = countBelow(own, below) - 1;
      const page: Room[] = [];
      while (page.length < first && (i >= 0 || j >= 0)) {
        const takePublic = j < 0 || (i >= 0 && (publicRooms[i] as Entry).order > (own[j] as Entry).order);
        page.push((takePublic ? (publicRooms[i--] as Entry) : (own[j--] as Entry)).room);
      }
      return page;
    },
  };
}
