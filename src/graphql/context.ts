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

export interface GraphQLContext extends ServerContext {
  /** null when the request carried no valid token. */
  viewer: Viewer | null;
}

export function requireViewer(ctx: GraphQLContext): Viewer {
  if (!ctx.viewer) throw new ChatError('UNAUTHENTICATED', 'a valid token is required: Authorization: Bearer <jwt>');
  return ctx.viewer;
}
