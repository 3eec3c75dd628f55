export type ChatErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE'
  /** A document version older than the kept edit log (DOC_HISTORY_LIMIT): the client reloads the document. */
  | 'VERSION_TOO_OLD';

/** The one error type of the domain: `graphql/errors.ts` turns its code into `extensions.code`. */
export class ChatError extends Error {
  override readonly name = 'ChatError';
  constructor(
    readonly code: ChatErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isChatError = (error: unknown): error is ChatError => error instanceof ChatError;
