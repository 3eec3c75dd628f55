import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { satisfies } from './node-range.ts';

// What `npm ci` warns about (EBADENGINE), checked from package-lock.json: every installed package must accept the
// oldest Node the README claims (package.json's engines) and the one the suite runs on (CI: 20.20.2).

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string) => JSON.parse(readFileSync(`${root}${file}`, 'utf8')) as Record<string, unknown>;

describe('Node versions', () => {
  const manifest = read('package.json') as { engines: { node: string } };
  const lock = read('package-lock.json') as { packages: Record<string, { version?: string; engines?: { node?: string } | string[] }> };
  const oldest = /^>=(\d+\.\d+)$/.exec(manifest.engines.node)?.[1];

  it('package.json claims one oldest Node (>=major.minor), the README says the same, and the suite runs on a version it allows', () => {
    expect(oldest).toBeDefined();
    expect(readFileSync(`${root}README.md`, 'utf8')).toContain(`Node.js ${oldest} or newer`);
    expect(satisfies(process.versions.node, manifest.engines.node)).toBe(true);
  });

  it('the Node the README says CI runs is allowed, and is the one running when CI runs the suite', () => {
    const ciVersion = /CI runs the suite on Node (\d+\.\d+\.\d+)/.exec(readFileSync(`${root}README.md`, 'utf8'))?.[1];
    expect(ciVersion).toBeDefined();
    expect(satisfies(ciVersion as string, manifest.engines.node)).toBe(true);
    // .ci/run sets CI=true: there the claim is checked against the Node that runs it.
    if (process.env.CI === 'true') expect(process.versions.node).toBe(ciVersion);
  });

  it('every package in package-lock.json accepts that Node and this one: npm ci prints no engine warning', () => {
    const refused = Object.entries(lock.packages).flatMap(([path, entry]) => {
      const range = !entry.engines || Array.isArray(entry.engines) ? undefined : entry.engines.node;
      if (!path || !range) return [];
      return [`${oldest}.0`, process.versions.node]
        .filter((version) => !satisfies(version, range))
        .map((version) => `${path}@${entry.version}: node ${range} refuses ${version}`);
    });
    expect(refused).toEqual([]);
  });

  it('the range check refuses what npm refuses (so the test above can fail)', () => {
    expect(satisfies('20.20.2', '>=22.15.0')).toBe(false);
    expect(satisfies('20.19.0', '^20.19.0 || >=22.12.0')).toBe(true);
    expect(satisfies('20.18.3', '^20.19.0 || >=22.12.0')).toBe(false);
    expect(satisfies('21.7.0', '^20.19.0 || >=22.12.0')).toBe(false);
    expect(satisfies('20.20.2', '18 || 20 || >=22')).toBe(true);
    expect(satisfies('20.20.2', '>=23.5.0 || ^22.13.0 || ^20.17.0')).toBe(true);
    expect(satisfies('20.20.2', '^12.22.0 || ^14.17.0 || >=16.0.0')).toBe(true);
    expect(satisfies('20.20.2', '>= 10.x')).toBe(true);
    expect(satisfies('20.20.2', '>=14 <20')).toBe(false);
    expect(satisfies('20.20.2', '*')).toBe(true);
  });
});
