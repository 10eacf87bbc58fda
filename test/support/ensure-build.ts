/**
 * Tests that spawn services as child processes run the compiled code in dist/. Before a jest run, build
 * when dist/ is missing or older than any source it is built from (`npm test` has just built, so this
 * costs nothing there; a bare `npx jest` after an edit gets a fresh dist). Builds are serialised with
 * flock so parallel jest runs in one checkout never write dist/ at the same time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Newest mtime (ms) of the files under `dir` whose name passes `keep`; 0 when there are none. */
function newestMtime(dir: string, keep: (name: string) => boolean): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path, keep));
    else if (keep(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

const isSource = (name: string): boolean => name.endsWith('.ts') && !name.endsWith('.spec.ts') && !name.endsWith('.d.ts');

/** Why dist/ needs a build, or undefined when it is fresh. */
export function distStaleReason(root: string): string | undefined {
  const dist = join(root, 'dist');
  if (!existsSync(dist)) return 'dist/ is missing';
  for (const app of readdirSync(join(root, 'apps'))) {
    if (existsSync(join(root, 'apps', app, 'src', 'main.ts')) && !existsSync(join(dist, 'apps', app, 'src', 'main.js'))) {
      return `dist/apps/${app}/src/main.js is missing`;
    }
  }
  // The build compiles apps/, libs/, examples/ and (for child processes) test/support/ and test/bench/.
  const src = Math.max(...['apps', 'libs', 'examples', join('test', 'support'), join('test', 'bench')].filter((d) => existsSync(join(root, d))).map((d) => newestMtime(join(root, d), isSource)), statSync(join(root, '.swcrc')).mtimeMs);
  const out = newestMtime(dist, (n) => n.endsWith('.js'));
  return src > out ? 'sources changed since the last build' : undefined;
}

/** Runs `npm run build` when dist/ is stale. A failed build is reported, not thrown: only the tests that need dist fail then. */
export function ensureBuild(root: string): void {
  const reason = distStaleReason(root);
  if (!reason) return;
  process.stdout.write(`\n[global-setup] ${reason}: npm run build\n`);
  mkdirSync(join(root, '.ekm'), { recursive: true });
  const hasFlock = spawnSync('flock', ['--version'], { stdio: 'ignore' }).status === 0;
  const [cmd, args] = hasFlock
    ? ['flock', [join(root, '.ekm', 'build.lock'), 'npm', 'run', '--silent', 'build']]
    : ['npm', ['run', '--silent', 'build']];
  const res = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (res.status !== 0) process.stderr.write(`[global-setup] npm run build failed (exit ${res.status}); tests that spawn dist/ code will fail\n`);
}
