/**
 * docker-compose.yml cannot be run here (no Docker engine), so it is checked against the code: each EKM
 * service's env against its @ekm/config schema, ports/healthchecks against EKM_HTTP_PORT, commands
 * against the build output, image builds against infra/Dockerfile. Broken copies prove the checks bite.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SERVICES } from '@ekm/contracts';
import { checkCompose, dockerStages, EDGE_APPS, ekmServiceOf, environmentOf, interpolate } from './compose-check';

const ROOT = join(__dirname, '..', '..');
type Doc = Record<string, any>;
const load = (): Doc => parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as Doc;

/** Applies `mutate` to a fresh copy of the compose file and returns the problems it introduced. */
function problemsAfter(mutate: (c: Doc) => void): string[] {
  const baseline = new Set(checkCompose(load(), ROOT));
  const c = load();
  mutate(c);
  return checkCompose(c, ROOT).filter((p) => !baseline.has(p));
}

describe('docker-compose.yml', () => {
  it('is consistent with the services\' config schemas, ports, build output and Dockerfile', () => {
    expect(checkCompose(load(), ROOT)).toEqual([]);
  });

  // The unit tier runs without a build: dist/apps/<s>/src/main.js is what swc makes of apps/<s>/src/main.ts.
  it('runs each of the four services from a dist entry that npm run build produces', () => {
    const c = load();
    const ran = Object.values(c.services as Doc).map((s) => ekmServiceOf(s as Doc)).filter((s) => s !== undefined && !(EDGE_APPS as readonly string[]).includes(s)).sort();
    expect(ran).toEqual([...SERVICES].sort());
    for (const s of SERVICES) expect(existsSync(join(ROOT, 'apps', s, 'src', 'main.ts'))).toBe(true);
  });

  it('reports an EKM_* variable the service does not read', () => {
    const p = problemsAfter((c) => { c.services.policy.environment.EKM_GCM_BUDGET = '1000'; });
    expect(p).toEqual([expect.stringMatching(/services\.policy: EKM_GCM_BUDGET is not read by the policy service/)]);
  });

  it('reports a value the schema rejects, naming the variable', () => {
    const p = problemsAfter((c) => { c.services.keys.environment.EKM_LOG_LEVEL = 'loud'; });
    expect(p.join('\n')).toMatch(/services\.keys: invalid configuration for keys: EKM_LOG_LEVEL/);
  });

  it('reports a keys service set to pkcs11 without its PIN and library', () => {
    const p = problemsAfter((c) => { c.services.keys.environment.EKM_ROOT_OF_TRUST = 'pkcs11'; });
    expect(p.join('\n')).toMatch(/EKM_PKCS11_LIBRARY/);
    expect(p.join('\n')).toMatch(/EKM_PKCS11_PIN/);
  });

  it('reports a published port or healthcheck that is not EKM_HTTP_PORT', () => {
    expect(problemsAfter((c) => { c.services.audit.ports = ['7105:7105']; })).toEqual([
      expect.stringMatching(/services\.audit: ports .* do not publish EKM_HTTP_PORT 7104/),
    ]);
    expect(problemsAfter((c) => { c.services.rotation.environment.EKM_HTTP_PORT = '7199'; }).join('\n'))
      .toMatch(/healthcheck probes port 7103, but EKM_HTTP_PORT is 7199/);
    expect(problemsAfter((c) => { c.services.keys.healthcheck.test[3] = "fetch('http://127.0.0.1:7101/health/live')"; }).join('\n'))
      .toMatch(/probes \/health\/live, not \/health\/ready/);
  });

  it('reports a missing service, an unknown app and a wrong database role', () => {
    expect(problemsAfter((c) => { delete c.services.rotation; })).toEqual(['no compose service runs rotation (node dist/apps/rotation/src/main.js)']);
    expect(problemsAfter((c) => { c.services.audit.command = ['node', 'dist/apps/auditor/src/main.js']; }).join('\n'))
      .toMatch(/dist\/apps\/auditor, which is not an EKM service/);
    expect(problemsAfter((c) => { c.services.keys.environment.EKM_DATABASE_URL = 'postgres://postgres:x@postgres:5432/ekm'; }).join('\n'))
      .toMatch(/logs in as "postgres", not the service role ekm_keys/);
  });

  it('reports a host outside the compose network, a bad depends_on and a Dockerfile stage that does not exist', () => {
    expect(problemsAfter((c) => { c.services.keys.environment.EKM_NATS_URL = 'nats://127.0.0.1:4222'; }).join('\n'))
      .toMatch(/EKM_NATS_URL points at host "127.0.0.1"/);
    expect(problemsAfter((c) => { c.services.policy.depends_on.migrate.condition = 'service_started'; }).join('\n'))
      .toMatch(/depends_on\.migrate must have condition service_completed_successfully/);
    expect(problemsAfter((c) => { c.services.keys.build.target = 'prod'; }).join('\n'))
      .toMatch(/build\.target "prod" is not a stage of infra\/Dockerfile/);
  });

  it('migrate creates the roles with the password the services log in with', () => {
    expect(problemsAfter((c) => { c.services.migrate.environment.EKM_DB_ROLE_PASSWORD = 'other'; }).join('\n'))
      .toMatch(/EKM_DB_ROLE_PASSWORD differs/);
    const env = environmentOf(load().services.migrate as Doc);
    expect(new URL(env.EKM_DATABASE_ADMIN_URL).pathname).toBe('/ekm');
  });
});

describe('infra/Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'infra', 'Dockerfile'), 'utf8');

  it('builds on node:20-bookworm in named stages and runs as a non-root user with SoftHSM2', () => {
    expect(dockerStages(dockerfile)).toEqual(['build', 'runtime']);
    expect(dockerfile).toMatch(/^FROM node:20-bookworm AS build$/m);
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    expect(runtime).toMatch(/apt-get install[^\n]*softhsm2/);
    expect(runtime).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
  });
});

describe('compose interpolation', () => {
  it('takes ${X:-default} defaults and empties unset ${X}', () => {
    expect(interpolate('postgres://u:${P:-pw}@h/${DB}')).toBe('postgres://u:pw@h/');
  });
});
