import { GraphQLError, type ExecutionResult } from 'graphql';
import { isChatError } from '../chat/errors.ts';

const originalOf = (error: unknown): unknown =>
  error instanceof GraphQLError && error.originalError ? originalOf(error.originalError) : error;

/**
 * Yoga's `maskError`: domain errors keep their message and get their code as `extensions.code`; GraphQL's own
 * (syntax, validation, limits) keep theirs; anything else is an internal error whose details stay in the log.
 */
export function maskError(error: unknown, fallbackMessage: string): Error {
  const original = originalOf(error);
  if (isChatError(original)) {
    const path = error instanceof GraphQLError ? error.path : undefined;
    const nodes = error instanceof GraphQLError ? error.nodes : undefined;
    return new GraphQLError(original.message, {
      ...(nodes ? { nodes } : {}),
      ...(path ? { path } : {}),
      extensions: { code: original.code },
    });
  }
  if (error instanceof GraphQLError && (!error.originalError || error.originalError instanceof GraphQLError)) {
    // graphql-js's own answers to what the client sent (a variable or argument that does not coerce, a null for a
    // non-null `if`): the same object, with its context ("Variable "$b" got invalid value ..."), so that Yoga, which
    // logs every error its mask replaces, does not log the client's mistake as a fault of the server.
    if (error.extensions.code === undefined) (error.extensions as Record<string, unknown>).code = 'BAD_USER_INPUT';
    return error;
  }
  const path = error instanceof GraphQLError ? error.path : undefined;
  return new GraphQLError(fallbackMessage, {
    ...(path ? { path } : {}),
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  });
}

/**
 * The result with its errors masked as Yoga masks them, for results that bypass Yoga's per-subscriber result hooks
 * (the WebSocket direct path). Results without errors are returned as they are: their identity is what lets a
 * shared result be serialized once. The delivery engine masks each shared result once and remembers it.
 */
export function maskResult(result: ExecutionResult): ExecutionResult {
  if (!result.errors?.length) return result;
  return { ...result, errors: result.errors.map((error) => maskError(error, 'Unexpected error.') as GraphQLError) };
}
