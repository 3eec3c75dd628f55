import type { Room } from '../types.ts';

export interface RoomStore {
  /** Stores a new room; ids are unique. */
  create(room: Room): Promise<void>;
  get(id: string): Promise<Room | null>;
  /** Public rooms and the private rooms `userId` is a member of, oldest first. */
  listVisibleTo(userId: string): Promise<Room[]>;
}
