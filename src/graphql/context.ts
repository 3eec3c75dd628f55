import type { TokenVerifier } from '../auth/token-verifier.ts';
import type { Chat } from '../chat/index.ts';
import { ChatError } from '../chat/errors.ts';
import type { Viewer } from '../chat/types.ts';
import type { Documents } from '../documents/index.ts';
import type { DashboardEventModel, ServerStatsSnapshot } from './mappers.ts';

/** What the server gives every operation, on every transport. */
export interface ServerContext {
  chat: Chat;
  /** Collaborative documents (issue 12). */
  documents: Documents;
  /** The live operations dashboard's figures for this instance (or the cluster). */
  stats: { snapshot(): Promise<ServerStatsSnapshot> };
  /** The `dashboard` subscription's source: a snapshot, then deltas (issue 13). */
  dashboard: { subscribe(): AsyncIterableIterator<DashboardEventModel> };
}

/**
 * What a WebSocket operation may change about the socket it runs on: implemented by the WebSocket edge and handed
 * to each of its operations, so a resolver changes the connection's state without knowing `ws` or graphql-ws.
 */
export interface SocketSessionControl {
  /**
   * Gives the socket a later token of the same user (in-band refresh): operations started from now on run as
   * `viewer`, and the socket is closed 4403 at `viewer.expiresAt` instead of the old token's expiry. False, and
   * nothing changed, when `viewer` is another user or the socket is already closing.
   */
  replaceViewer(viewer: Viewer): boolean;
}

export interface GraphQLContext extends ServerContext {
  /** null when the request carried no valid token. */
  viewer: Viewer | null;
  /** Verifies a token as connection_init and the Authorization header are verified (`refreshToken`). */
  tokens: TokenVerifier;
  /** The socket of a WebSocket operation (graphql-ws's own loop); absent over HTTP and SSE. */
  session?: SocketSessionControl;
}

export function requireViewer(ctx: GraphQLContext): Viewer {
  if (!ctx.viewer) throw new ChatError('UNAUTHENTICATED', 'a valid token is required: Authorization: Bearer <jwt>');
  return ctx.viewer;
}
