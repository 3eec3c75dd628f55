import { ChatError } from '../../chat/errors.ts';

/** Runs a Redis call, turning any transport failure into the domain's UNAVAILABLE. */
export async function orUnavailable<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ChatError) throw error;
    throw new ChatError('UNAVAILABLE', `${what}: Redis unavailable`, { cause: error });
  }
}
