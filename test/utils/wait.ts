/** Polls `predicate` until it holds; fails with `message` after `timeoutMs`. Every wait in the suite is bounded. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 5_000, message = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolves with the promise's value, or rejects after `timeoutMs`. */
export function within<T>(promise: Promise<T>, timeoutMs = 5_000, message = 'promise'): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${message}`)), timeoutMs);
    }),
  ]);
}
