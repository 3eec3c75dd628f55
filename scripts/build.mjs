// `npm run build`: compiles src/ into dist/ with tsc and copies the files the code reads beside itself (the demo
// page, the Lua scripts), so `node dist/main.js` runs with no TypeScript loader. Plain JavaScript because it runs
// before anything is compiled, and after `npm ci --omit=dev`, where tsx is absent.
//
// `--if-stale` (what `npm start` runs first) builds only when dist/ is missing or older than an input: a fresh
// clone builds once, an edited source rebuilds, and an unchanged tree costs Node's start and one walk of src/.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');
// Written last: its presence says the previous build finished, its mtime says when it started.
const stamp = join(dist, '.build-stamp');
const INPUTS = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'tsconfig.client-types.json', 'scripts/build.mjs'].map((file) =>
  join(root, file),
);

/** Every file and directory under `dir` (a directory's mtime changes when an entry is added or removed). */
function* walk(dir) {
  yield dir;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}

function stale() {
  let built;
  try {
    built = statSync(stamp).mtimeMs;
  } catch {
    return true;
  }
  for (const path of [...INPUTS, ...walk(src)]) if (statSync(path).mtimeMs > built) return true;
  return false;
}

// Files tsc does not emit but the code reads relative to its own module (`new URL('./lua/x.lua', import.meta.url)`).
const isAsset = (path) => !path.endsWith('.ts') && !path.endsWith('.md');

function build() {
  const startedAt = new Date();
  rmSync(dist, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  // The server as JavaScript, then the declarations an app's TypeScript reads for `<package>/client`.
  for (const project of ['tsconfig.build.json', 'tsconfig.client-types.json']) {
    const result = spawnSync(process.execPath, [tsc, '-p', join(root, project)], { stdio: 'inherit' });
    if (result.status !== 0) {
      console.error(`build: tsc -p ${project} failed`);
      process.exit(result.status ?? 1);
    }
  }
  for (const path of walk(src)) {
    if (statSync(path).isDirectory() || !isAsset(path)) continue;
    const target = join(dist, relative(src, path));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(path, target);
  }
  writeFileSync(stamp, `${startedAt.toISOString()}\n`);
  // The stamp's mtime is the build's start: a source saved while tsc ran counts as newer next time.
  utimesSync(stamp, startedAt, startedAt);
}

if (!process.argv.includes('--if-stale') || stale()) build();
