import { readFileSync } from 'node:fs';

// The Markdown side of test/docs/readme-snippets.test.ts: every fenced block of a document with the marker on the
// line right above it (docs/snippets.md). Kept apart from the test so the parsing can be read on its own.

export type Marker =
  /** Commands run with bash in the workspace (or `in=<dir>` below it); must exit 0. */
  | { kind: 'shell'; dir: string }
  /** What the shell block before it prints; `<...>` stands for any run of non-blank characters. */
  | { kind: 'output' }
  /** A whole file of an app, written to `<dir>/<name>` in the workspace. */
  | { kind: 'file'; path: string }
  /** The command that starts a long-running app in `<dir>`; the test starts it, with arguments appended. */
  | { kind: 'start'; dir: string }
  /** Quoted from a file of the repository: must appear there as written. */
  | { kind: 'excerpt'; path: string }
  /** Shown, not run, and the marker says why (which test covers it, or why it cannot be run). */
  | { kind: 'not-run'; reason: string };

export interface Snippet {
  /** `README.md:123`: the document and the line of the opening fence. */
  readonly where: string;
  readonly language: string;
  readonly code: string;
  readonly marker: Marker;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)/;
const MARKER = /^<!--\s*snippet:\s*(.*?)\s*-->$/;

function parseMarker(text: string): Marker | string {
  const [kind = '', ...rest] = text.split(/\s+/);
  const argument = rest.join(' ');
  switch (kind) {
    case 'shell': {
      const dir = /^in=(\S+)$/.exec(argument)?.[1];
      return argument === '' || dir ? { kind, dir: dir ?? '.' } : `shell takes only in=<dir>, not "${argument}"`;
    }
    case 'output':
      return argument === '' ? { kind } : 'output takes no argument';
    case 'file':
    case 'excerpt':
      if (!/^[\w./-]+$/.test(argument) || argument.split('/').includes('..')) return `${kind} needs a relative path, not "${argument}"`;
      return kind === 'file' ? { kind: 'file', path: argument } : { kind: 'excerpt', path: argument };
    case 'start':
      return /^[\w.-]+$/.test(argument) ? { kind, dir: argument } : `start needs a folder name, not "${argument}"`;
    case 'not-run': {
      const reason = /^\((.+)\)$/.exec(argument)?.[1]?.trim();
      return reason ? { kind, reason } : 'not-run needs a reason in parentheses';
    }
    default:
      return `unknown snippet kind "${kind}"`;
  }
}

/**
 * Every fenced block of `file` (a path relative to `root`), with its marker, and one problem per block that has
 * none or a malformed one. A block is closed by a fence of the same character at least as long, as in CommonMark.
 */
export function readSnippets(root: string, file: string): { snippets: Snippet[]; problems: string[] } {
  const lines = readFileSync(`${root}/${file}`, 'utf8').split('\n');
  const snippets: Snippet[] = [];
  const problems: string[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const open = FENCE.exec(lines[i] as string);
    if (!open) continue;
    const [, indent = '', fence = '', language = ''] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j += 1) {
      const line = lines[j] as string;
      const close = FENCE.exec(line);
      if (close && close[2]?.[0] === fence[0] && (close[2]?.length ?? 0) >= fence.length && close[3] === '') break;
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line.trimStart());
    }
    const where = `${file}:${i + 1}`;
    const markerText = MARKER.exec((lines[i - 1] ?? '').trim())?.[1];
    const marker = markerText === undefined ? 'no <!-- snippet: ... --> marker on the line above' : parseMarker(markerText);
    if (typeof marker === 'string') problems.push(`${where}: ${marker}`);
    else snippets.push({ where, language, code: `${body.join('\n')}\n`, marker });
    i = j;
  }
  return { snippets, problems };
}
