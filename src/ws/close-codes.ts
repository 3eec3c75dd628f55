import { CloseCode as GraphQLWsCloseCode } from 'graphql-ws';

/**
 * Every close code this server sends, in one place. The graphql-ws client (Apollo, urql) retries on 4403,
 * 4408, 1001, 1013 and treats 1008, 1009 and most 44xx as fatal (PITFALLS 13): the choice is deliberate.
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
