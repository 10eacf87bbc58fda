/**
 * docker-compose.yml after `docker compose up`: an admin who can log in, the operator policy, NATS from
 * the host, and a root of trust that survives down/up (test/infra/compose-day2-check.ts); broken copies
 * prove each check bites. `docker compose config` validates the file when a compose client is installed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { checkComposeDay2 } from './compose-day2-check';

const ROOT = join(__dirname, '..', '..');
type Doc = Record<string, any>;
const text = (): string => readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
const load = (): Doc => parse(text()) as Doc;
const after = (mutate: (c: Doc) => void): string[] => {
  const c = load();
  mutate(c);
  return checkComposeDay2(c, ROOT);
};

describe('docker-compose.yml day-2 checks', () => {
  it('the file passes them', () => {
    expect(checkComposeDay2(load(), ROOT)).toEqual([]);
  });

  it('audit seals its signing key: without a root secret or a volume it is reported', () => {
    expect(after((c) => { delete c.services.audit.environment.EKM_ROOT_SECRET; })).toEqual(expect.arrayContaining([
      expect.stringMatching(/services\.audit: seals under the software root but sets no EKM_ROOT_SECRET/),
    ]));
    expect(after((c) => { delete c.services.audit.volumes; })).toEqual(expect.arrayContaining([
      expect.stringMatching(/services\.audit: its data dir \/var\/lib\/ekm .* is on no named volume/),
    ]));
    expect(after((c) => { c.services.audit.volumes = ['audit-only:/var/lib/ekm']; })).toEqual(expect.arrayContaining([
      expect.stringMatching(/volume audit-only is not declared/),
      expect.stringMatching(/must share one root of trust/),
    ]));
  });

  it('no bootstrap admin, no operator policy, or NATS not published are reported', () => {
    expect(after((c) => { delete c.services.policy.environment.EKM_BOOTSTRAP_CREDENTIALS_FILE; })).toEqual(expect.arrayContaining([expect.stringMatching(/no operator admin, nobody can log in/)]));
    expect(after((c) => { delete c.services.policy.volumes; })).toEqual(expect.arrayContaining([expect.stringMatching(/admin\.credentials is on no named volume/)]));
    expect(after((c) => { delete c.services['operator-policy']; })).toEqual(['no compose service installs the operator policy (ekm policy put infra/policies/operator-admin.json)']);
    expect(after((c) => { c.services['operator-policy'].environment.EKM_NATS_USER = 'nobody'; })).toEqual([expect.stringMatching(/NATS user nobody is not in the mounted accounts file/)]);
    expect(after((c) => { delete c.services['operator-policy'].depends_on.keys; })).toEqual([expect.stringMatching(/depends_on\.keys must have condition service_healthy/)]);
    expect(after((c) => { delete c.services.nats.ports; })).toEqual([expect.stringMatching(/does not publish 4222/)]);
  });
});

/** `docker compose` (v2 plugin), else Compose v1 (`docker-compose`), else none. */
function composeClient(): string[] | undefined {
  if (spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0) return ['docker', 'compose'];
  if (spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0) return ['docker-compose'];
  return undefined;
}

describe('docker compose config', () => {
  const client = composeClient();
  (client ? it : it.skip)(`validates docker-compose.yml (${client?.join(' ') ?? 'no compose client installed'})`, () => {
    let file = join(ROOT, 'docker-compose.yml');
    const dir = mkdtempSync(join(tmpdir(), 'ekm-compose-'));
    try {
      // Compose v1 predates the top-level `name` of the Compose Specification; it is its only gap here.
      if (client![0] === 'docker-compose') {
        file = join(dir, 'docker-compose.yml');
        writeFileSync(file, text().replace(/^name: .*$/m, ''));
      }
      const r = spawnSync(client![0]!, [...client!.slice(1), '-f', file, '--project-directory', ROOT, 'config', '-q'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
