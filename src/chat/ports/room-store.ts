import type { Room } from '../types.ts';

/** Which slice of a listing: the `first` rooms created before room `after` (from the newest when absent). */
export interface RoomPage {
  first: number;
  after?: string | null;
}

export interface RoomStore {
  /** Stores a new room; ids are unique. */
  create(room: Room): Promise<void>;
  get(id: string): Promise<Room | null>;
  /**
   * Public rooms and the private rooms `userId` is a member of (creator included), newest first, one page of
   * them; its cost grows with the page, not with the number of rooms. null when `after` is not a room `userId`
   * can see (unknown, or private without them), so a cursor never reveals a room.
   */
  listVisibleTo(userId: string, page: RoomPage): Promise<Room[] | null>;
}
