/**
 * Every spec file names its tier by suffix; jest.config.js selects the tiers by it (`npm run
 * test:unit|test:int|test:e2e`), so a spec without one would silently never run.
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const SKIP = new Set(['node_modules', 'dist', '.git', '.ekm']);

function specFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...specFiles(p));
    else if (/\.spec\.[cm]?[jt]s$/.test(e.name)) out.push(relative(ROOT, p));
  }
  return out;
}

describe('spec tiers', () => {
  it('every spec file is *.unit.spec.ts, *.int.spec.ts or *.e2e.spec.ts', () => {
    const files = ['apps', 'libs', 'test', 'examples'].flatMap((d) => specFiles(join(ROOT, d)));
    expect(files.length).toBeGreaterThan(50);
    expect(files.filter((f) => !/\.(unit|int|e2e)\.spec\.ts$/.test(f))).toEqual([]);
  });
});
