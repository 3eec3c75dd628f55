import { GraphQLError, type DocumentNode, type ExecutionArgs } from 'graphql';
import type { SubscribePayload } from 'graphql-ws';
import type { Viewer } from '../chat/types.ts';
import type { DirectTarget } from '../delivery/engine.ts';
import type { SocketSessionControl } from '../graphql/context.ts';
import type { YogaServer } from '../graphql/yoga.ts';

export type Enveloped = ReturnType<YogaServer['getEnveloped']>;

export interface EnvelopedArgs extends ExecutionArgs {
  rootValue: { execute: Enveloped['execute']; subscribe: Enveloped['subscribe'] };
}

export interface ParsedOperation {
  enveloped: Enveloped;
  document: DocumentNode;
}

/**
 * Yoga's validation plugin puts `extensions.http` (status 400) on each error for its HTTP responses and strips it
 * there; a WebSocket client would see it raw. The code stays.
 */
function forSocket(error: GraphQLError): GraphQLError {
  if (!('http' in error.extensions)) return error;
  const { http: _http, ...extensions } = error.extensions;
  return new GraphQLError(error.message, { ...(error.nodes ? { nodes: error.nodes } : {}), extensions });
}

/**
 * A WebSocket operation through Yoga's envelop (its parser and validation caches, the query limits, and later
 * its context and plugins), as Yoga documents it for graphql-ws. A small initial context, not Yoga's recipe of
 * spreading graphql-ws's context and the request into it: a subscriber's context may live as long as it does.
 * `session`: the socket's capabilities (`refreshToken`), for graphql-ws's own operations; shared subscriptions on
 * the direct path get none (their execution context is nobody's).
 */
export function parseOperation(
  yoga: YogaServer,
  viewer: Viewer | null,
  payload: SubscribePayload,
  directDelivery?: DirectTarget,
  session?: SocketSessionControl,
): ParsedOperation | readonly GraphQLError[] {
  const enveloped = yoga.getEnveloped({
    params: payload,
    viewer,
    transport: 'ws' as const,
    ...(directDelivery ? { directDelivery } : {}),
    ...(session ? { session } : {}),
  });
  try {
    const document = enveloped.parse(payload.query);
    const errors = enveloped.validate(enveloped.schema, document);
    return errors.length > 0 ? errors.map(forSocket) : { enveloped, document };
  } catch (error) {
    // Yoga's recipe lets this throw (a syntax error, the token limit), and graphql-ws then closes the whole
    // socket with 4500 (pitfalls §11): it is an answer to this operation only.
    if (error instanceof GraphQLError) return [forSocket(error)];
    throw error;
  }
}

export async function operationArgs({ enveloped, document }: ParsedOperation, payload: SubscribePayload): Promise<EnvelopedArgs> {
  const { schema, execute, subscribe, contextFactory } = enveloped;
  return {
    schema,
    operationName: payload.operationName ?? null,
    document,
    variableValues: payload.variables ?? null,
    contextValue: await contextFactory(),
    rootValue: { execute, subscribe },
  };
}
