import { CloseCode as GraphQLWsCloseCode } from 'graphql-ws';

/**
 * Every close code this server sends, in one place. The graphql-ws client (Apollo, urql) retries on 4403,
 * 4408, 1001, 1013 and treats 1008, 1009 and most 44xx as fatal (pitfalls §13): the choice is deliberate.
 */
export const CloseCode = {
  /** Shutdown: clients reconnect to another instance. */
  GoingAway: 1001,
  /** Abuse (frame rate): clients must not retry. */
  PolicyViolation: 1008,
  /** A frame over MAX_PAYLOAD_BYTES (sent by ws itself). */
  MessageTooBig: 1009,
  /** Slow consumer: clients retry and resume with `after`. */
  TryAgainLater: 1013,
  BadRequest: GraphQLWsCloseCode.BadRequest,
  Unauthorized: GraphQLWsCloseCode.Unauthorized,
  /** Bad or expired token: clients refresh it and retry. */
  Forbidden: GraphQLWsCloseCode.Forbidden,
  ConnectionInitialisationTimeout: GraphQLWsCloseCode.ConnectionInitialisationTimeout,
  SubscriberAlreadyExists: GraphQLWsCloseCode.SubscriberAlreadyExists,
  TooManyInitialisationRequests: GraphQLWsCloseCode.TooManyInitialisationRequests,
  InternalServerError: GraphQLWsCloseCode.InternalServerError,
} as const;

/** RFC 6455: a close frame's reason is at most 123 bytes of UTF-8 (ws throws a RangeError past it, pitfalls §24). */
const MAX_CLOSE_REASON_BYTES = 123;
const ELLIPSIS = '…';

/**
 * `reason` cut to fit a close frame, never inside a multi-byte character. graphql-ws builds reasons from client
 * input (`Subscriber for <id> already exists`), so a long one must end the socket with its own code, not a throw.
 */
export function clipCloseReason(reason: string): string {
  const bytes = Buffer.from(reason, 'utf8');
  if (bytes.length <= MAX_CLOSE_REASON_BYTES) return reason;
  let end = MAX_CLOSE_REASON_BYTES - Buffer.byteLength(ELLIPSIS);
  // Back off continuation bytes (10xxxxxx) so the cut falls on a character boundary.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return bytes.subarray(0, end).toString('utf8') + ELLIPSIS;
}
