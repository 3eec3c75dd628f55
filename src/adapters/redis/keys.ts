/**
 * Every key and pub/sub channel name, all under one prefix. Channels are prefixed here by hand because
 * neither the `/db` of a Redis URL nor ioredis `keyPrefix` applies to pub/sub (pitfalls §7).
 * The namespace comes before the id, so no room or user id can collide with another kind of key.
 */
export function createKeys(prefix: string) {
  return {
    prefix,
    room: (roomId: string) => `${prefix}room:${roomId}`,
    /** Creation counter: the score of both room indexes, so listings keep creation order exactly. */
    roomOrder: `${prefix}rooms:order`,
    publicRooms: `${prefix}rooms:public`,
    userRooms: (userId: string) => `${prefix}rooms:user:${userId}`,
    seq: (roomId: string) => `${prefix}msg-seq:${roomId}`,
    messages: (roomId: string) => `${prefix}msg:${roomId}`,
    idempotency: (roomId: string) => `${prefix}msg-idem:${roomId}`,
    idempotencyBySeq: (roomId: string) => `${prefix}msg-idem-seq:${roomId}`,
    /** Key prefixes the presence reaper completes inside Lua with the room id it reads from an expired entry. */
    presenceConnectionsPrefix: `${prefix}presence-conns:`,
    presenceCountsPrefix: `${prefix}presence-counts:`,
    presenceUsersPrefix: `${prefix}presence-users:`,
    presenceConnections: (roomId: string) => `${prefix}presence-conns:${roomId}`,
    presenceCounts: (roomId: string) => `${prefix}presence-counts:${roomId}`,
    presenceUsers: (roomId: string) => `${prefix}presence-users:${roomId}`,
    presenceExpiry: `${prefix}presence-expiry`,
    /** A token bucket: `limit` names the limit (no ':'), so two limits never share a bucket. */
    rate: (limit: string, key: string) => `${prefix}rate:${limit}:${key}`,
    roomChannel: (roomId: string) => `${prefix}room-events:${roomId}`,
    /** What the presence reaper puts in front of a room id it reads from an expired entry to publish MemberLeft. */
    roomChannelPrefix: `${prefix}room-events:`,
    /** A document's head: meta fields, `text` and `version`. */
    document: (documentId: string) => `${prefix}doc:${documentId}`,
    /** A document's edit log: zset, score version, member the edit's JSON (the same string its channel carries). */
    documentEdits: (documentId: string) => `${prefix}doc-edits:${documentId}`,
    documentIdempotency: (documentId: string) => `${prefix}doc-idem:${documentId}`,
    documentIdempotencyByVersion: (documentId: string) => `${prefix}doc-idem-ver:${documentId}`,
    roomDocuments: (roomId: string) => `${prefix}room-docs:${roomId}`,
    documentChannel: (documentId: string) => `${prefix}doc-events:${documentId}`,
    /** userEvents: one channel per user, and the broadcast channel of public rooms (`user-events:` never names a user). */
    userChannel: (userId: string) => `${prefix}user-events:${userId}`,
    everyoneChannel: `${prefix}user-events-all`,
    /** serverStats: one expiring key per live instance, and the set naming them. */
    instance: (instanceId: string) => `${prefix}instance:${instanceId}`,
    instances: `${prefix}instances`,
  };
}

export type Keys = ReturnType<typeof createKeys>;
