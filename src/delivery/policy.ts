/**
 * What the delivery engine may share, for this schema. Both lists are checked by
 * `test/unit/delivery-invariant.test.ts`, which executes every resolver reachable from the subscription roots with a
 * context that records each read: a resolver that reads the context (the viewer) and is not listed in
 * `PER_VIEWER_FIELDS` fails the suite, as does a root field's `resolve` that reads an argument not in `keyArgs`.
 */

/** A subscription root field whose per-event execution may be shared between subscribers. */
export interface SharedRootField {
  /**
   * The root field's arguments that its `resolve` reads: part of the shape key. The others (`after`, a stream
   * position) only shape the source stream, which `subscribe` builds per subscriber anyway, so subscribers that
   * resume from different messages still share one execution per event.
   */
  readonly keyArgs: readonly string[];
}

export interface DeliveryPolicy {
  readonly sharedRoots: Readonly<Record<string, SharedRootField>>;
  /**
   * Fields (`Type.field`) whose resolvers read the context or the viewer. An operation that selects one is
   * executed per subscriber, with its own context, on every transport.
   */
  readonly perViewerFields: readonly string[];
}

export const CHAT_DELIVERY_POLICY: DeliveryPolicy = {
  // userEvents is not shared: its events are per user, so subscribers of one event are the tabs of one user, and
  // sharing would gain little. It is executed per subscriber, with its own context, on every transport.
  sharedRoots: { roomEvents: { keyArgs: ['roomId'] }, documentEvents: { keyArgs: ['documentId'] } },
  // Nothing reachable from a RoomEvent or a DocumentEvent reads the context (a cursor's "not to the mover" is
  // filtered per subscriber in its stream, not by a resolver reading the viewer). A RoomAvailable's Room does: its
  // fields read through the services (history, presence, documents), so an operation selecting them runs with the
  // subscriber's context.
  perViewerFields: ['Room.online', 'Room.messages', 'Room.documents', 'Document.editors'],
};
