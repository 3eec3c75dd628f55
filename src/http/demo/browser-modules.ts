import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Route } from '../routes.ts';

/** Where the page finds each module; index.html's import map points the bare names `graphql` and `graphql-ws` here. */
const CLIENT_PREFIX = '/demo/client/';
const VENDOR_PREFIX = '/demo/vendor/';

const require = createRequire(import.meta.url);

/** Every file under `dir` whose name ends with `extension`, by its path relative to `root` in URL form. */
function listFiles(dir: string, extension: string, recursive: boolean, root = dir, files = new Map<string, string>()): Map<string, string> {
  // A walk of our own: `readdirSync`'s `recursive` and `Dirent.parentPath` are missing from early Node 20 releases.
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && recursive) listFiles(path, extension, recursive, root, files);
    else if (entry.isFile() && entry.name.endsWith(extension)) files.set(relative(root, path).split(sep).join('/'), path);
  }
  return files;
}

/**
 * The `resumable()` helper's modules (`src/client`) as the browser can run them. After `npm run build` they are the
 * compiled files beside this module's compiled form; under tsx, where only the TypeScript sources exist, their types
 * are stripped on first request with the `typescript` package (a dependency already: the build uses it), and
 * remembered. Either way the page runs the very code that apps import, not a copy.
 */
function clientModules(): { names: ReadonlySet<string>; load(name: string): Promise<string> } {
  const dir = fileURLToPath(new URL('../../client/', import.meta.url));
  const compiled = existsSync(join(dir, 'resumable.js'));
  const names = new Set(
    [...listFiles(dir, compiled ? '.js' : '.ts', false).keys()]
      .filter((file) => !file.endsWith('.d.ts'))
      .map((file) => file.replace(/\.[jt]s$/, '')),
  );
  const loaded = new Map<string, Promise<string>>();
  const transpile = async (name: string) => {
    const [{ default: ts }, source] = await Promise.all([import('typescript'), readFile(join(dir, `${name}.ts`), 'utf8')]);
    return ts.transpileModule(source, {
      fileName: `${name}.ts`,
      // `./resume-plan.ts` -> `./resume-plan.js`, the URL this route serves it at.
      compilerOptions: {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        verbatimModuleSyntax: true,
        rewriteRelativeImportExtensions: true,
      },
    }).outputText;
  };
  return {
    names,
    load(name) {
      let text = loaded.get(name);
      if (!text) {
        text = compiled ? readFile(join(dir, `${name}.js`), 'utf8') : transpile(name);
        text.catch(() => loaded.delete(name));
        loaded.set(name, text);
      }
      return text;
    },
  };
}

/**
 * The ES module builds the two packages ship, served as they are: graphql's `.mjs` files (its `module` build) and
 * graphql-ws's `dist/*.js` (its `browser` export is `dist/client.js`, which imports one shared chunk beside it).
 */
function vendorModules(): Map<string, string> {
  const files = new Map<string, string>();
  const graphqlDir = dirname(require.resolve('graphql/package.json'));
  for (const [path, file] of listFiles(graphqlDir, '.mjs', true)) files.set(`graphql/${path}`, file);
  // graphql-ws exports no package.json: its CommonJS entry sits in the same dist/ as the ES modules.
  const graphqlWsDir = dirname(require.resolve('graphql-ws'));
  for (const [path, file] of listFiles(graphqlWsDir, '.js', false)) files.set(`graphql-ws/${path}`, file);
  return files;
}

const sendModule = (response: ServerResponse, body: string | Buffer, head: boolean) => {
  const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  response.writeHead(200, {
    'content-type': 'text/javascript; charset=utf-8',
    'content-length': length,
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  response.end(head ? undefined : body);
};

/**
 * `/demo/client/*.js` and `/demo/vendor/**`: what the demo chat imports, from this origin (no CDN, no bundle step).
 * Only files listed at start-up are served, so a path names one of them or nothing (no traversal).
 */
export function createBrowserModules(): Route {
  const client = clientModules();
  const vendor = vendorModules();
  return (request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const head = request.method === 'HEAD';
    let body: Promise<string | Buffer>;
    if (path.startsWith(CLIENT_PREFIX) && path.endsWith('.js') && client.names.has(path.slice(CLIENT_PREFIX.length, -3))) {
      body = client.load(path.slice(CLIENT_PREFIX.length, -3));
    } else if (path.startsWith(VENDOR_PREFIX) && vendor.has(path.slice(VENDOR_PREFIX.length))) {
      body = readFile(vendor.get(path.slice(VENDOR_PREFIX.length)) as string);
    } else {
      return false;
    }
    body.then(
      (text) => sendModule(response, text, head),
      () => response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('module unavailable\n'),
    );
    return true;
  };
}
