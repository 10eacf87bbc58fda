#!/usr/bin/env node
// `npm run bench -- [--quick] [--stack] [--profile] ...`: builds dist/ when a source is newer than it
// (the harness is TypeScript compiled into dist/test/bench), then runs dist/test/bench/bench.main.js.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..', '..');
const newest = (dir, keep) => {
  if (!existsSync(dir)) return 0;
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'results') continue;
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p, keep) : keep(e.name) ? statSync(p).mtimeMs : 0);
  }
  return t;
};
const isSource = (n) => n.endsWith('.ts') && !n.endsWith('.spec.ts') && !n.endsWith('.d.ts');
const main = join(root, 'dist', 'test', 'bench', 'bench.main.js');
require('node:fs').mkdirSync(join(root, '.ekm'), { recursive: true });
const src = Math.max(...['apps', 'libs', 'test/support', 'test/bench'].map((d) => newest(join(root, d), isSource)));
if (!existsSync(main) || src > newest(join(root, 'dist'), (n) => n.endsWith('.js'))) {
  process.stderr.write('[bench] sources changed since the last build: npm run build\n');
  const res = spawnSync('flock', [join(root, '.ekm', 'build.lock'), 'npm', 'run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  if (res.status !== 0) process.exit(res.status ?? 1);
}
require(main).runBench(process.argv.slice(2));
