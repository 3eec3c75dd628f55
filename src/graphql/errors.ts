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
  if (error instanceof GraphQLError && !error.originalError) return error;
  if (error instanceof GraphQLError && error.originalError instanceof GraphQLError) return error.originalError;
  const path = error instanceof GraphQLError ? error.path : undefined;
  return new GraphQLError(fallbackMessage, {
    ...(path ? { path } : {}),
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  });
}

const maskedResults = new WeakMap<ExecutionResult, ExecutionResult>();

/**
 * The result with its errors masked as Yoga would mask them, computed once per result object: for results that
 * bypass Yoga's per-subscriber result hooks (the WebSocket direct path, `ws/direct-subscriptions.ts`).
 */
export function maskResult(result: ExecutionResult): ExecutionResult {
  if (!result.errors?.length) return result;
  let masked = maskedResults.get(result);
  if (!masked) {
    masked = { ...result, errors: result.errors.map((error) => maskError(error, 'Unexpected error.') as GraphQLError) };
    maskedResults.set(result, masked);
  }
  return masked;
}
