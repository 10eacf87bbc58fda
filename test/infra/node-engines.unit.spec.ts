/**
 * `npm ci` prints EBADENGINE for every locked package whose `engines.node` excludes the running Node.
 * The supported Node lines are the root package's `engines.node`; this checks that the first release
 * of each line satisfies every package in package-lock.json (what `npm ci` installs), so a dependency
 * bump that wants a newer Node fails here instead of warning on a user's first command.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
// semver ships with npm's own dependency tree here; a devDependency only for this check is not worth it.
const semver = createRequire(__filename)('semver') as { satisfies(version: string, range: string): boolean; minVersion(range: string): { version: string } | null };

/** The lowest version of each `||` branch of the root `engines.node`: the supported minimums. */
function supportedMinimums(range: string): string[] {
  return range.split('||').map((branch) => {
    const min = semver.minVersion(branch.trim());
    if (!min) throw new Error(`engines.node branch ${branch} has no minimum`);
    return min.version;
  });
}

describe('Node engines', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { engines?: { node?: string } | string[] }> };
  const minimums = supportedMinimums(pkg.engines.node);

  it('supports the Node 20, 22 and 24 lines (README: Requirements)', () => {
    expect(minimums.map((v) => v.split('.')[0])).toEqual(['20', '22', '24']);
  });

  it('every locked package accepts the first supported release of each line (no EBADENGINE on npm ci)', () => {
    const refused: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      const node = !entry.engines || Array.isArray(entry.engines) ? undefined : entry.engines.node;
      if (path === '' || node === undefined) continue;
      for (const v of minimums) if (!semver.satisfies(v, node)) refused.push(`${path} wants node ${node}, refuses ${v}`);
    }
    expect(refused).toEqual([]);
  });
});
