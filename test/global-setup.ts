import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

/**
 * Brings dist/ up to date with src/ once, before any test file runs (a no-op when it is): the README's apps import
 * the compiled `./client` export from it and `npm start` runs it, so no test file may rebuild it under another.
 */
export default function setup(): void {
  const result = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`scripts/build.mjs --if-stale exited ${result.status}`);
}
