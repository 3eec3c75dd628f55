import { ChatError } from '../../../chat/errors.ts';
import type { MutationResolvers } from '../../resolvers-types.generated.ts';

/**
 * In-band token refresh (CONTRACT, Auth): the token is checked exactly as connection_init checks it; over
 * WebSocket it then replaces the socket's token, over HTTP and SSE there is nothing to extend. Every refusal leaves
 * the socket with its old token. The token itself never reaches an error message or a log line.
 */
export const refreshToken: NonNullable<MutationResolvers['refreshToken']> = async (_parent, { token }, ctx) => {
  const result = await ctx.tokens.verify(token);
  if (!result.ok) throw new ChatError('UNAUTHENTICATED', `the new token is ${result.reason}; the old one stays`);
  const { viewer } = result;
  if (ctx.session) {
    // A socket is one user's for its whole life: a token of someone else would let a socket change hands.
    if (viewer.id !== ctx.viewer?.id || !ctx.session.replaceViewer(viewer)) {
      throw new ChatError('FORBIDDEN', "the new token must be the socket's user's; the old one stays");
    }
  }
  return { userId: viewer.id, expiresAt: new Date(viewer.expiresAt) };
};
