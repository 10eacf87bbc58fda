import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ekm } from '@ekm/client';
import { startPolicyHarness, type PolicyHarness } from '../../../policy/src/access/adapters/nats/policy.test-harness';
import { runCli } from '../program';

describe('ekm principal / ekm policy against a running policy service', () => {
  let h: PolicyHarness;
  let dir: string;
  beforeAll(async () => {
    h = await startPolicyHarness();
    dir = mkdtempSync(join(tmpdir(), 'ekm-cli-policy-'));
  });
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function ekm(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await runCli(['--nats', h.natsUrl, ...argv], {
      io: { stdout: (c) => { out += c.toString(); }, stderr: (c) => { err += c; } },
      env: {}, cwd: dir,
      connect: ({ url, timeoutMs }) => Ekm.connect({ servers: url, timeoutMs }),
    });
    return { code, out, err };
  }

  it('principal create --out writes a 0600 credential file; list, rotate-credential, revoke', async () => {
    const file = join(dir, 'app.credentials');
    const created = await ekm('--json', 'principal', 'create', '--tenant', 'acme', '--role', 'app', '--name', 'indexer', '--out', file);
    expect(created.code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const cred = JSON.parse(readFileSync(file, 'utf8')) as { principalId: string; privateKey: string };
    expect(created.out).not.toContain(cred.privateKey);
    const listed = JSON.parse((await ekm('--json', 'principal', 'list', '--tenant', 'acme')).out) as { principals: { principalId: string }[] };
    expect(listed.principals.map((p) => p.principalId)).toContain(cred.principalId);
    const rotated = await ekm('principal', 'rotate-credential', cred.principalId, '--grace', '0');
    expect(rotated.code).toBe(0);
    expect(rotated.out).toContain('shown once');
    expect((await ekm('principal', 'revoke', cred.principalId)).code).toBe(0);
    const again = await ekm('--json', 'principal', 'revoke', cred.principalId);
    expect(again.code).toBe(1);
    expect(again.err).toContain('EKM_CONFLICT');
  });

  it('policy put FILE (id from the file name) / get / list / simulate / delete; a bad document names the path', async () => {
    const p = JSON.parse((await ekm('--json', 'principal', 'create', '--tenant', 'acme', '--role', 'app')).out) as { principal: { principalId: string } };
    const good = join(dir, 'acme-apps.json');
    writeFileSync(good, JSON.stringify({ statements: [{ sid: 'use', effect: 'allow', roles: ['app'], actions: ['keys:Decrypt'], resources: ['*'], conditions: [{ op: 'equals', key: 'collection', value: 'docs' }] }] }));
    const put = await ekm('--json', 'policy', 'put', good, '--tenant', 'acme');
    expect(put.code).toBe(0);
    expect(JSON.parse(put.out)).toMatchObject({ policyId: 'acme-apps', version: 1 });
    expect(JSON.parse((await ekm('--json', 'policy', 'get', 'acme-apps')).out)).toMatchObject({ tenant: 'acme' });
    expect((await ekm('policy', 'list')).out).toContain('acme-apps');
    const sim = await ekm('--json', 'policy', 'simulate', '--principal', p.principal.principalId, '--action', 'keys:Decrypt', '--tenant', 'acme', '--context', 'collection=docs');
    expect(JSON.parse(sim.out)).toMatchObject({ allowed: true, policyId: 'acme-apps', statementId: 'use' });
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ statements: [{ sid: 'x', effect: 'allow', roles: ['app'], actions: ['keys:*'], resources: ['*'], conditions: [{ op: 'equals', key: 'c' }] }] }));
    const refused = await ekm('--json', 'policy', 'put', bad, '--tenant', 'acme');
    // Checked against the same schema before sending: a usage error (exit 2) naming the path.
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.err)).toMatchObject({ code: 'EKM_CLI_USAGE', message: expect.stringContaining('statements[0].conditions[0].value') });
    expect((await ekm('policy', 'delete', 'acme-apps')).code).toBe(0);
    expect((await ekm('--json', 'policy', 'get', 'acme-apps')).err).toContain('EKM_NOT_FOUND');
  });
});
