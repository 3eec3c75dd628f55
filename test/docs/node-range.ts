// npm's `engines.node` ranges, as far as the packages of this lockfile write them: `||` alternatives of
// space-separated comparators (`>=`, `>`, `<=`, `<`, `=`), caret ranges, bare or `x` partial versions and `*`.

type Version = [number, number, number];

const parse = (text: string): { version: Version; parts: number } => {
  const parts = text
    .replace(/^v/, '')
    .split('.')
    .filter((part) => part !== '' && part !== 'x' && part !== '*');
  const [major = 0, minor = 0, patch = 0] = parts.map(Number);
  return { version: [major, minor, patch], parts: parts.length };
};

const compare = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

function matches(version: Version, comparator: string): boolean {
  const [, operator = '', operand = ''] = /^(\^|~|>=|<=|>|<|=)?\s*(.*)$/.exec(comparator) ?? [];
  if (operand === '' || operand === '*' || operand === 'x') return true;
  const { version: bound, parts } = parse(operand);
  const order = compare(version, bound);
  switch (operator) {
    case '>=':
      return order >= 0;
    case '>':
      return order > 0;
    case '<=':
      return order <= 0;
    case '<':
      return order < 0;
    case '^':
      // ^0.y.z keeps the minor, ^x.y.z the major (npm's caret).
      return order >= 0 && (bound[0] === 0 ? version[0] === 0 && version[1] === bound[1] : version[0] === bound[0]);
    case '~':
      return order >= 0 && version[0] === bound[0] && (parts < 2 || version[1] === bound[1]);
    default:
      // `20`, `20.19` or `=20.19.0`: every version that starts that way.
      return version.slice(0, parts).every((n, i) => n === bound[i]);
  }
}

/** Whether `version` (e.g. "20.20.2") is in `range` (e.g. "^20.19.0 || >=22.12.0"). */
export function satisfies(version: string, range: string): boolean {
  const { version: v } = parse(version);
  return range.split('||').some((alternative) =>
    alternative
      .trim()
      .replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1')
      .split(/\s+/)
      .every((comparator) => matches(v, comparator)),
  );
}
