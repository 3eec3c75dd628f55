import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * The editor page's modules, made once at start-up from what the server itself runs, with no bundler and no CDN:
 * the OT client module (`src/client/ot-client.ts`, the one the tests and the README use) and the CommonJS
 * packages it needs in the browser (`ot-text-unicode`, and `unicount` for UTF-16 <-> code point positions,
 * pitfalls §29), each wrapped as one ES module.
 */

const REQUIRE_CALL = /\brequire\(\s*["']([^"']+)["']\s*\)/g;

/**
 * `specifier` and every module it requires, as one ES module: each file becomes a function of
 * `(module, exports, require)` as Node runs it, with its requires resolved here, and the entry's exports become
 * named exports (read by loading the package in Node, so they are exactly what `import { x }` gets there).
 */
export function wrapCommonJs(specifier: string): string {
  const require = createRequire(import.meta.url);
  const entry = require.resolve(specifier);
  const ids = new Map<string, number>();
  const parts: string[] = [];
  const visit = (file: string): number => {
    const known = ids.get(file);
    if (known !== undefined) return known;
    const id = ids.size;
    ids.set(file, id);
    const code = readFileSync(file, 'utf8');
    const resolveFrom = createRequire(file);
    const deps: Record<string, number> = {};
    for (const [, request] of code.matchAll(REQUIRE_CALL)) deps[request!] ??= visit(resolveFrom.resolve(request!));
    parts[id] = `[${JSON.stringify(deps)}, function (module, exports, require) {\n${code}\n}]`;
    return id;
  };
  visit(entry);
  const names = Object.keys(require(specifier) as object).filter((name) => /^[A-Za-z_$][\w$]*$/.test(name) && name !== 'default');
  return [
    `// ${specifier}, wrapped as an ES module for the browser by the server (src/http/demo/editor-modules.ts).`,
    `const modules = [\n${parts.join(',\n')}\n];`,
    'const cache = [];',
    'function load(id) {',
    '  if (cache[id]) return cache[id].exports;',
    '  const module = (cache[id] = { exports: {} });',
    '  const [deps, run] = modules[id];',
    '  run(module, module.exports, (request) => load(deps[request]));',
    '  return module.exports;',
    '}',
    'const main = load(0);',
    'export default main;',
    ...names.map((name) => `export const ${name} = main.${name};`),
    '',
  ].join('\n');
}

/**
 * The OT client as browser JavaScript: its compiled form beside the compiled server (dist/, after `npm run build`),
 * or, running from the TypeScript sources (development, where `typescript` is installed), its source with the
 * types stripped. Its one import is pointed at the wrapped package the page loads.
 */
export function otClientModule(importPath: string): string {
  const compiled = new URL('../../client/ot-client.js', import.meta.url);
  let code: string;
  if (existsSync(compiled)) {
    code = readFileSync(compiled, 'utf8');
  } else {
    const source = readFileSync(fileURLToPath(new URL('../../client/ot-client.ts', import.meta.url)), 'utf8');
    const ts = createRequire(import.meta.url)('typescript') as typeof import('typescript');
    code = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
    }).outputText;
  }
  return code.replace(/from\s+["']ot-text-unicode["']/g, `from ${JSON.stringify(importPath)}`);
}
