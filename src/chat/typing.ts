import type { Logger } from './logger.ts';
import { ChatError } from './errors.ts';
import type { RateLimiter, RoomEventBus } from './ports/index.ts';
import type { RoomService } from './rooms.ts';
import type { Viewer } from './types.ts';

export interface TypingServiceOptions {
  bus: RoomEventBus;
  rooms: RoomService;
  /** setTyping per user (TYPING_RATE): each call fans out to every subscriber of the room. */
  limiter: RateLimiter;
  logger: Logger;
  /** typing:true without renewal ends (TypingChanged typing:false) after this. @default 5_000 */
  ttlMs?: number;
}

/**
 * Typing state lives on the instance that received the last setTyping for that user and room: it is ephemeral,
 * so a lost expiry is only a stale indicator for a few seconds, never lost data. `active` holds one timer per
 * (readable room, user) with typing on: the rate limit and the TTL bound it to TYPING_RATE x TTL entries a user.
 */
export function createTypingService({ bus, rooms, limiter, logger, ttlMs = 5_000 }: TypingServiceOptions) {
  const active = new Map<string, NodeJS.Timeout>();
  const keyOf = (roomId: string, userId: string) => `${roomId}\u0000${userId}`;

  const publish = async (roomId: string, viewer: Viewer, typing: boolean) =>
    bus.publish({
      kind: 'typing',
      roomId,
      user: { id: viewer.id, name: viewer.name },
      typing,
      at: new Date().toISOString(),
    });

  const stop = (roomId: string, viewer: Viewer): Promise<void> | undefined => {
    const key = keyOf(roomId, viewer.id);
    const timer = active.get(key);
    if (!timer) return undefined;
    clearTimeout(timer);
    active.delete(key);
    return publish(roomId, viewer, false);
  };

  return {
    async set(viewer: Viewer, roomId: string, typing: boolean): Promise<boolean> {
      // Before the room lookup: a flood costs one token check each, not a store read.
      if (!(await limiter.take(viewer.id))) throw new ChatError('RATE_LIMITED', 'too many typing updates; slow down');
      await rooms.require(viewer, roomId);
      if (!typing) {
        await stop(roomId, viewer);
        return true;
      }
      const key = keyOf(roomId, viewer.id);
      const renewal = active.get(key);
      if (renewal) clearTimeout(renewal);
      const expiry = setTimeout(() => {
        if (active.get(key) !== expiry) return;
        active.delete(key);
        publish(roomId, viewer, false).catch((error: unknown) =>
          logger.warn({ roomId, userId: viewer.id, err: error }, 'typing expiry not published'),
        );
      }, ttlMs);
      expiry.unref();
      active.set(key, expiry);
      if (!renewal) await publish(roomId, viewer, true);
      return true;
    },

    /** A sent message ends the author's typing indicator at once. */
    stopAfterMessage(roomId: string, viewer: Viewer): void {
      stop(roomId, viewer)?.catch((error: unknown) => logger.warn({ roomId, userId: viewer.id, err: error }, 'typing stop not published'));
    },

    close(): void {
      for (const timer of active.values()) clearTimeout(timer);
      active.clear();
    },
  };
}

export type TypingService = ReturnType<typeof createTypingService>;
