#!/usr/bin/env node
// `npm run pack`: installable tarballs of the SDK (@ekm/client) and the CLI (@ekm/cli, bin `ekm`) in
// dist/packages/ (or EKM_PACK_OUT). Each package holds the compiled JS of its module closure, found by
// following require() from its entry in dist/ (swc has already turned the @ekm/* path aliases into
// relative paths), laid out as in the repository (libs/client/src/..., libs/contracts/src/...), so the
// aliases need no bundler. Its dependencies are the registry packages that closure requires, at the
// versions of the root package.json. The SDK also gets .d.ts types (tsc, with @ekm/* rewritten to
// relative paths). A closure that reaches a folder outside a package's allowed roots fails the pack:
// that would ship server code (and its database drivers) to SDK users.
'use strict';
const { execFileSync } = require('node:child_process');
const { builtinModules } = require('node:module');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist');
const OUT = path.resolve(process.env.EKM_PACK_OUT || path.join(DIST, 'packages'));
const rootPkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

const PACKAGES = [
  {
    name: '@ekm/client',
    description: 'TypeScript SDK for EKM, encryption key management for vector databases (NATS bus API)',
    entry: 'libs/client/src/index.js',
    types: 'libs/client/src/index.ts',
    readme: 'libs/client/README.md',
    roots: ['libs/client/', 'libs/contracts/', 'libs/auth/'],
  },
  {
    name: '@ekm/cli',
    description: 'The ekm command line for EKM, encryption key management for vector databases',
    entry: 'apps/cli/src/main.js',
    bin: 'ekm',
    readme: 'apps/cli/README.md',
    roots: ['apps/cli/', 'apps/keys/', 'libs/'],
  },
];

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Relative files (from DIST) reachable from `entry`, and the bare specifiers they require. */
function closure(entry) {
  const files = new Set();
  const externals = new Set();
  const visit = (file) => {
    if (files.has(file)) return;
    files.add(file);
    const src = fs.readFileSync(path.join(DIST, file), 'utf8');
    for (const m of src.matchAll(/require\((["'])([^"']+)\1\)/g)) {
      const spec = m[2];
      if (!spec.startsWith('.')) {
        if (!builtins.has(spec)) externals.add(spec);
        continue;
      }
      const base = path.join(path.dirname(path.join(DIST, file)), spec);
      const hit = [base, `${base}.js`, path.join(base, 'index.js')].find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
      if (!hit) throw new Error(`${file} requires ${spec}, which is not in dist/ (run npm run build)`);
      visit(path.relative(DIST, hit));
    }
  };
  visit(entry);
  return { files: [...files].sort(), externals: [...externals].sort() };
}

/** The package name of a bare specifier (`@scope/name/sub` -> `@scope/name`). */
const packageOf = (spec) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');

function dependenciesOf(externals, pkgName) {
  const deps = {};
  for (const name of new Set(externals.map(packageOf))) {
    const version = rootPkg.dependencies[name];
    if (!version) throw new Error(`${pkgName} requires ${name}, which is not a runtime dependency in package.json`);
    deps[name] = version;
  }
  return deps;
}

/** .d.ts of the SDK's source closure, with @ekm/* specifiers rewritten to relative paths. */
function emitTypes(stage, typesEntry) {
  const tsconfig = path.join(stage, 'tsconfig.types.json');
  fs.writeFileSync(tsconfig, JSON.stringify({
    extends: path.join(ROOT, 'tsconfig.json'),
    compilerOptions: { noEmit: false, declaration: true, emitDeclarationOnly: true, outDir: stage, rootDir: ROOT, types: ['node'], typeRoots: [path.join(ROOT, 'node_modules', '@types')] },
    files: [path.join(ROOT, typesEntry)],
    include: [],
  }));
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', tsconfig], { stdio: 'inherit' });
  fs.rmSync(tsconfig);
  const aliases = JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8')).compilerOptions.paths;
  const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  for (const file of walk(stage).filter((f) => f.endsWith('.d.ts'))) {
    const text = fs.readFileSync(file, 'utf8').replace(/(from |import\()(["'])(@ekm\/[a-z-]+(?:\/[a-z-]+)?)\2/g, (all, lead, q, alias) => {
      const target = aliases[alias]?.[0];
      if (!target) throw new Error(`${file}: unknown alias ${alias}`);
      let rel = path.relative(path.dirname(file), path.join(stage, target.replace(/\.ts$/, ''))).split(path.sep).join('/');
      if (!rel.startsWith('.')) rel = `./${rel}`;
      return `${lead}${q}${rel}${q}`;
    });
    if (/["']@ekm\//.test(text)) throw new Error(`${file}: an @ekm/* import was left unresolved`);
    fs.writeFileSync(file, text);
  }
}

function pack(spec) {
  const { files, externals } = closure(spec.entry);
  const stray = files.filter((f) => !spec.roots.some((r) => f.startsWith(r)));
  if (stray.length > 0) throw new Error(`${spec.name} would ship code outside ${spec.roots.join(', ')}: ${stray.join(', ')}`);
  const stage = path.join(OUT, '.stage', spec.name.replace('/', '-'));
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(stage, { recursive: true });
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(stage, f)), { recursive: true });
    // Source maps stay behind: they point at TypeScript sources the package does not carry.
    const js = fs.readFileSync(path.join(DIST, f), 'utf8').replace(/\n\/\/# sourceMappingURL=.*$/, '\n');
    fs.writeFileSync(path.join(stage, f), js);
  }
  const manifest = {
    name: spec.name,
    version: rootPkg.version,
    description: spec.description,
    license: rootPkg.license,
    engines: rootPkg.engines,
    main: spec.entry,
    dependencies: dependenciesOf(externals, spec.name),
  };
  if (spec.types) {
    emitTypes(stage, spec.types);
    manifest.types = spec.types.replace(/\.ts$/, '.d.ts');
  }
  if (spec.bin) {
    const launcher = path.join(stage, 'bin', `${spec.bin}.js`);
    fs.mkdirSync(path.dirname(launcher), { recursive: true });
    fs.writeFileSync(launcher, `#!/usr/bin/env node\n'use strict';\nrequire('../${spec.entry}');\n`, { mode: 0o755 });
    manifest.bin = { [spec.bin]: `bin/${spec.bin}.js` };
  }
  fs.copyFileSync(path.join(ROOT, spec.readme), path.join(stage, 'README.md'));
  fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', OUT], { cwd: stage, encoding: 'utf8' }).trim().split('\n').pop();
  fs.rmSync(stage, { recursive: true, force: true });
  return { name: spec.name, tarball: path.join(OUT, out), files: files.length, dependencies: manifest.dependencies };
}

function main() {
  if (!process.argv.includes('--no-build')) execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  fs.mkdirSync(OUT, { recursive: true });
  const results = PACKAGES.map(pack);
  fs.rmSync(path.join(OUT, '.stage'), { recursive: true, force: true });
  for (const r of results) {
    process.stdout.write(`${r.name}: ${path.relative(process.cwd(), r.tarball)} (${r.files} modules; depends on ${Object.keys(r.dependencies).join(', ')})\n`);
  }
}

main();
