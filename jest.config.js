// One jest run for the whole suite: unit specs (pure, fast) and integration/e2e specs that use the
// private Postgres and nats-server started by test/support/global-setup.ts.
const { readFileSync } = require('node:fs');
const swcrc = JSON.parse(readFileSync(`${__dirname}/.swcrc`, 'utf8'));
delete swcrc.exclude;
delete swcrc.$schema;
swcrc.jsc.baseUrl = __dirname;

const moduleNameMapper = {};
for (const [alias, [target]] of Object.entries(swcrc.jsc.paths)) {
  moduleNameMapper[`^${alias.replace('/', '\\/')}$`] = `<rootDir>/${target.replace(/^\.\//, '')}`;
}

// Default test timeout scaled with the load per core, as test/support/wait-for.ts scales deadlines
// (EKM_TEST_TIME_SCALE overrides): a spec that passes idle must not time out at load average 6 on 2 cores.
const { cpus, loadavg } = require('node:os');
const setScale = Number(process.env.EKM_TEST_TIME_SCALE);
const timeScale = Number.isFinite(setScale) && setScale >= 1 ? setScale : Math.min(4, Math.max(1, loadavg()[0] / Math.max(1, cpus().length)));

const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test', '<rootDir>/examples'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/test/bench/', '/test/chaos/full/'],
  transform: { '^.+\\.(t|j)s$': ['@swc/jest', { ...swcrc, swcrc: false, sourceMaps: 'inline' }] },
  // NestJS 12 and uuid are ESM-only; jest's own module loader cannot require() ESM on Node 20, so swc compiles them.
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|uuid)/)'],
  moduleNameMapper,
  // The global test nats-server refuses anonymous clients; EKM_TEST_NATS_URL carries the harness user.
  setupFiles: ['<rootDir>/test/support/nats-url-credentials.js'],
};
// Integration and e2e specs share one private Postgres and nats-server: jest runs a globalSetup module
// once per run even when several selected projects name it, and not at all when only `unit` runs.
const servers = {
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};

// Tiers by file suffix (STYLE.md): every spec is *.unit.spec.ts, *.int.spec.ts or *.e2e.spec.ts;
// test/support/spec-tiers.unit.spec.ts fails for a spec that is none of them (it would never run).
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['**/*.unit.spec.ts'] },
    { ...common, ...servers, displayName: 'int', testMatch: ['**/*.int.spec.ts'] },
    { ...common, ...servers, displayName: 'e2e', testMatch: ['**/*.e2e.spec.ts'] },
  ],
  maxWorkers: 2,
  testTimeout: Math.ceil(60_000 * timeScale),
};
