import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

export interface LuaScript {
  run(keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown>;
}

/**
 * EVALSHA, falling back to EVAL on NOSCRIPT (a restarted Redis has an empty script cache). NOSCRIPT means the
 * script did not run, so the fallback can never execute a script twice.
 */
export function loadLuaScript(client: Redis, name: string): LuaScript {
  const source = readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');
  const sha = createHash('sha1').update(source).digest('hex');
  return {
    async run(keys, args) {
      try {
        return await client.evalsha(sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return client.eval(source, keys.length, ...keys, ...args);
      }
    },
  };
}
