import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Command, type Redis } from 'ioredis';

export interface LuaScriptRunOptions {
  /**
   * How long to wait for the reply, instead of the connection's `commandTimeout`. For a script that refuses to
   * run past a deadline, waiting longer than that deadline for the reply turns "Redis ran it, then froze before
   * replying" into a known outcome instead of a timeout that leaves the caller guessing.
   */
  replyTimeoutMs?: number;
}

export interface LuaScript {
  run(keys: readonly string[], args: ReadonlyArray<string | number>, options?: LuaScriptRunOptions): Promise<unknown>;
}

// lua/ sits beside this module in src/ and, copied by scripts/build.mjs, beside dist/adapters/redis/scripts.js.
const readLua = (name: string): string => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');

/**
 * The script's source with each `--#include <name>` line replaced by `lua/<name>.lua`: EVAL has no modules, and
 * a rule two scripts apply (the token bucket) must have one definition.
 */
export function luaSource(name: string): string {
  return readLua(name).replace(/^--#include ([\w-]+)$/gm, (_line, included: string) => readLua(included));
}

/**
 * EVALSHA, falling back to EVAL on NOSCRIPT (a restarted Redis has an empty script cache). NOSCRIPT means the
 * script did not run, so the fallback can never execute a script twice.
 */
export function loadLuaScript(client: Redis, name: string): LuaScript {
  const source = luaSource(name);
  const sha = createHash('sha1').update(source).digest('hex');
  const call = (
    command: 'evalsha' | 'eval',
    script: string,
    keys: readonly string[],
    args: ReadonlyArray<string | number>,
    replyTimeoutMs?: number,
  ) => {
    if (replyTimeoutMs === undefined) {
      return command === 'evalsha'
        ? client.evalsha(script, keys.length, ...keys, ...args)
        : client.eval(script, keys.length, ...keys, ...args);
    }
    const argv = [script, keys.length, ...keys, ...args];
    const pending = new Command(command, argv, { replyEncoding: 'utf8' });
    // ioredis arms the client-wide commandTimeout only on a command that has no timer yet (Command#setTimeout).
    pending.setTimeout(replyTimeoutMs);
    return client.sendCommand(pending);
  };
  return {
    async run(keys, args, options = {}) {
      try {
        return await call('evalsha', sha, keys, args, options.replyTimeoutMs);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return call('eval', source, keys, args, options.replyTimeoutMs);
      }
    },
  };
}
