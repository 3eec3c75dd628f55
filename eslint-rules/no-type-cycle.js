// `import-x/no-cycle` skips `import type` edges, but a cycle of type imports is still a cycle for a reader: no file of
// it can be read first (issue 11: src/ws was one). This rule follows every relative import, type-only ones
// included, and reports an import through which the file reaches itself.
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

const SPECIFIER =
  /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|(?:^|[\s;])import\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

/** Relative imports of each file, read once per lint run. */
const importsOf = new Map();

function relativeImports(file) {
  let imports = importsOf.get(file);
  if (imports) return imports;
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // A path that does not exist is tsc's to report.
  }
  imports = [];
  for (const match of text.matchAll(SPECIFIER)) imports.push(resolve(dirname(file), match[1] ?? match[2]));
  importsOf.set(file, imports);
  return imports;
}

/** The import chain from `start` back to `target`, or null. */
function pathBack(start, target) {
  const seen = new Set([start]);
  const queue = [[start]];
  while (queue.length > 0) {
    const chain = queue.shift();
    for (const next of relativeImports(chain.at(-1))) {
      if (next === target) return chain;
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push([...chain, next]);
    }
  }
  return null;
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'no import cycle, type-only imports included' },
    messages: { cycle: 'Import cycle: {{chain}}' },
    schema: [],
  },
  create(context) {
    const filename = context.filename;
    const check = (node) => {
      const source = node.source?.value;
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = resolve(dirname(filename), source);
      const chain = pathBack(target, filename);
      if (!chain) return;
      const names = [filename, ...chain, filename].map((file) => relative(context.cwd, file));
      context.report({ node, messageId: 'cycle', data: { chain: names.join(' -> ') } });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};
