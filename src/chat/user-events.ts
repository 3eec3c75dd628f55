import type { Logger } from './logger.ts';
import { parseMentions } from './mentions.ts';
import type { RoomStore, UserEventBus } from './ports/index.ts';
import { canRead } from './rooms.ts';
import type { Message, Room, UserEvent, Viewer } from './types.ts';
import { UserEventQueue } from './user-event-queue.ts';
import type { UserHubs } from './user-hubs.ts';

export interface UserEventServiceOptions {
  bus: UserEventBus;
  hubs: UserHubs;
  /** Who may read a mentioned message's room: read only for a message that mentions someone. */
  rooms: Pick<RoomStore, 'get'>;
  logger: Logger;
  /** Events queued per userEvents subscriber before the oldest is dropped (USER_EVENT_QUEUE). @default 100 */
  queueSize?: number;
}

/**
 * Targeted delivery (contract, "Targeted delivery"): RoomAvailable and Mentioned, found once at the source (the
 * created room, the stored message), never per subscriber, and published on the per-user bus after the store
 * answered. Publishing after the store rather than inside its script: the events are at most once by contract
 * (not replayed, an overloaded subscriber may miss some), mentions need the room's readers which the append script
 * does not have, and a publish failure must not turn a stored, acknowledged message into an error. So a
 * failed publish is logged and the mutation succeeds.
 */
export function createUserEventService({ bus, hubs, rooms, logger, queueSize = 100 }: UserEventServiceOptions) {
  let open = 0;

  const send = (what: string, publishing: Promise<void>) =>
    void publishing.catch((error: unknown) => logger.warn({ err: error }, `${what}: user event not published`));

  return {
    /** Open userEvents streams on this instance. */
    get openCount() {
      return open;
    },

    /**
     * A public room goes to everyone on one broadcast publish; a private one to each member but its creator, with
     * the member list cut to the creator and that member: the full list (up to 1000 ids) sent to each of up to 999
     * members would be a million ids on the bus for one room, and no field a client can select reads it.
     */
    roomCreated(room: Room): void {
      if (!room.private) return send('roomCreated', bus.publishToAll({ kind: 'roomAvailable', room, at: room.createdAt }));
      const recipients = room.members.filter((userId) => userId !== room.createdBy);
      const publishing = recipients.map(async (userId) =>
        bus.publishToUser(userId, { kind: 'roomAvailable', room: { ...room, members: [room.createdBy, userId] }, at: room.createdAt }),
      );
      // One log line for the room, not one per member, when Redis is down.
      send(
        'roomCreated',
        Promise.allSettled(publishing).then((results) => {
          const failed = results.filter((result) => result.status === 'rejected');
          if (failed.length > 0)
            throw new AggregateError(
              failed.map((result) => result.reason),
              `${failed.length} of ${recipients.length} members not told`,
            );
        }),
      );
    },

    /**
     * A newly stored message (not a retry of one): Mentioned to each user it names (at most 20, `parseMentions`)
     * who can read its room, but its author. The send itself checked the author's access in the store's one step,
     * so the room is read here, and only for a message that names someone.
     */
    messageStored(roomId: string, message: Message): void {
      const named = parseMentions(message.body).filter((userId) => userId !== message.author.id);
      if (named.length === 0) return;
      send(
        'messageStored',
        (async () => {
          const room = await rooms.get(roomId);
          if (!room) return;
          const event: UserEvent = { kind: 'mentioned', message, at: message.sentAt };
          await Promise.all(named.filter((userId) => canRead(room, userId)).map(async (userId) => bus.publishToUser(userId, event)));
        })(),
      );
    },

    /** The viewer's live stream of user events on this instance; nothing is replayed. */
    async open(viewer: Viewer): Promise<AsyncIterableIterator<UserEvent>> {
      const userId = viewer.id;
      const queue: UserEventQueue = new UserEventQueue(queueSize, () => {
        open -= 1;
        hubs.detach(userId, queue);
      });
      open += 1;
      try {
        await hubs.attach(userId, queue);
      } catch (error) {
        await queue.return();
        throw error;
      }
      return queue;
    },
  };
}

export type UserEventService = ReturnType<typeof createUserEventService>;
