import { StreamQueue } from '../streams/event-queue.ts';
import type { RoomEvent } from './types.ts';

export { isPipeable, type EventConsumer, type EventQueueOptions, type PipeableSource } from '../streams/event-queue.ts';

/** A room subscriber's queue: typing events are the ephemeral ones, dropped for a reader that fell behind. */
export class EventQueue extends StreamQueue<RoomEvent> {
  protected override isEphemeral(event: RoomEvent): boolean {
    return event.kind === 'typing';
  }
}
