import { randomUUID } from 'node:crypto';
import { statSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agreementKeyPair, signLoginRequest, sigV4Scope, sigV4Signature, type CredentialFile } from '@ekm/auth';
import { OPERATIONS } from '@ekm/contracts';
import { BootstrapAdmin } from '../runtime/bootstrap-admin';
import { dataOf, startPolicyHarness, type PolicyHarness } from './policy.test-harness';

interface Created { principal: { principalId: string; tenant: string; roles: string[] }; credential: { principalId: string; credentialId: string; privateKey: string } }

describe('policy service over the bus', () => {
  let h: PolicyHarness;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ekm-policy-'));
    process.env.EKM_BOOTSTRAP_CREDENTIALS_FILE = join(dir, 'sub', 'admin.credentials');
    h = await startPolicyHarness();
  });
  afterAll(async () => {
    delete process.env.EKM_BOOTSTRAP_CREDENTIALS_FILE;
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let admin: string;
  let acmeAdmin: string;
  let app: Created;

  it('bootstrap: first start creates an operator admin and writes its credential file with mode 0600; later starts do not', async () => {
    const file = join(dir, 'sub', 'admin.credentials');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const cred = JSON.parse(readFileSync(file, 'utf8')) as { principalId: string; credentialId: string; privateKey: string };
    expect(cred.privateKey.length).toBeGreaterThan(40);
    admin = cred.principalId;
    const p = dataOf(await h.call<{ tenant: string; roles: string[] }>('get-principal', { principalId: admin }, { principal: admin }));
    expect(p).toMatchObject({ tenant: '*', roles: ['admin'] });
    expect(await h.svc.app.get(BootstrapAdmin).run(file)).toBe('exists');
    // The private key never reaches the event log or the projection.
    const { rows } = await h.db.query<{ t: string }>(`SELECT data::text AS t FROM ekm_policy.events UNION ALL SELECT credentials::text FROM ekm_policy.principals`);
    expect(rows.map((r) => r.t).join('\n')).not.toContain(cred.privateKey);
  });

  it('principal create returns the credential once; tenant admins administer only their tenant', async () => {
    acmeAdmin = dataOf(await h.call<Created>('create-principal', { tenant: 'acme', roles: ['admin'] }, { principal: admin })).principal.principalId;
    app = dataOf(await h.call<Created>('create-principal', { tenant: 'acme', roles: ['app'], name: 'indexer' }, { principal: acmeAdmin }));
    expect(app.credential.privateKey).toBeDefined();
    const other = await h.call('create-principal', { tenant: 'globex', roles: ['app'] }, { principal: acmeAdmin });
    expect(other).toMatchObject({ ok: false, error: { code: 'EKM_FORBIDDEN' } });
    const byApp = await h.call('create-principal', { tenant: 'acme', roles: ['admin'] }, { principal: app.principal.principalId });
    expect(byApp).toMatchObject({ ok: false, error: { code: 'EKM_FORBIDDEN' } });
    const list = dataOf(await h.call<{ principals: { tenant: string }[] }>('list-principals', {}, { principal: acmeAdmin }));
    expect(list.principals.every((p) => p.tenant === 'acme')).toBe(true);
    expect(await h.call('get-principal', { principalId: admin }, { principal: acmeAdmin })).toMatchObject({ ok: false, error: { code: 'EKM_NOT_FOUND' } });
  });

  it.each([
    [{ statements: [{ sid: 's', effect: 'permit', roles: ['app'], actions: ['keys:*'], resources: ['*'] }] }, 'document.statements[0].effect'],
    [{ statements: [{ sid: 's', effect: 'allow', roles: ['app'], actions: ['keys:*'], resources: ['*'], conditions: [{ op: 'in', key: 'c', values: [] }] }] }, 'document.statements[0].conditions[0].values'],
    [{ statements: [{ sid: 's', effect: 'allow', actions: ['keys:*'], resources: ['*'] }] }, 'document.statements[0].principals'],
  ])('put-policy with an invalid document → EKM_VALIDATION naming %#, nothing appended, an AccessDenied record', async (document, path) => {
    const before = await h.events();
    const requestId = randomUUID();
    const r = await h.call('put-policy', { policyId: 'bad', tenant: 'acme', document }, { principal: acmeAdmin, requestId });
    expect(r).toMatchObject({ ok: false, error: { code: 'EKM_VALIDATION' } });
    if (!r.ok) expect(r.error.message).toContain(path);
    expect(await h.events()).toBe(before);
    expect((await h.refusals()).filter((d) => d.requestId === requestId)).toEqual([
      expect.objectContaining({ principal: acmeAdmin, tenant: 'acme', operation: 'PutPolicy', errorCode: 'EKM_VALIDATION', service: 'policy' }),
    ]);
  });

  it('decide and simulate over the bus: default deny, allow by statement, deny wins, tenant isolation', async () => {
    const p = app.principal.principalId;
    const decide = (body: object) => h.call<{ allowed: boolean; policyId?: string; statementId?: string; reason: string }>('decide', { principalId: p, action: 'keys:Decrypt', resource: { keyId: 'k-1', tenant: 'acme' }, encryptionContext: { collection: 'docs' }, ...body });
    expect(dataOf(await decide({}))).toEqual({ allowed: false, reason: `no statement allows keys:Decrypt on key k-1 for principal ${p}` });
    const put = dataOf(await h.call<{ version: number }>('put-policy', { policyId: 'acme-app', tenant: 'acme', document: { statements: [
      { sid: 'use', effect: 'allow', roles: ['app'], actions: ['keys:Decrypt', 'keys:Generate*'], resources: ['*'], conditions: [{ op: 'equals', key: 'collection', value: 'docs' }] },
    ] } }, { principal: acmeAdmin }));
    expect(put.version).toBe(1);
    expect(dataOf(await decide({}))).toMatchObject({ allowed: true, policyId: 'acme-app', statementId: 'use' });
    expect(dataOf(await decide({ resource: { keyId: 'k-2', tenant: 'globex' } }))).toEqual({ allowed: false, reason: 'key k-2 is not in tenant acme' });
    dataOf(await h.call('put-policy', { policyId: 'acme-lock', tenant: 'acme', document: { statements: [{ sid: 'lock', effect: 'deny', principals: ['*'], actions: ['keys:Decrypt'], resources: ['k-1'] }] } }, { principal: acmeAdmin }));
    expect(dataOf(await decide({}))).toMatchObject({ allowed: false, policyId: 'acme-lock', statementId: 'lock' });
    const sim = dataOf(await h.call<{ allowed: boolean; trace: { statementId: string; outcome: string }[] }>('simulate', { principalId: p, action: 'keys:Decrypt', resource: { keyId: 'k-1', tenant: 'acme' }, encryptionContext: {} }, { principal: acmeAdmin }));
    expect(sim.trace).toEqual(expect.arrayContaining([expect.objectContaining({ statementId: 'use', outcome: 'condition[0]' }), expect.objectContaining({ statementId: 'lock', outcome: 'matched' })]));
    expect(await h.call('simulate', { principalId: p, action: 'keys:Decrypt', resource: {} }, { principal: p })).toMatchObject({ ok: false, error: { code: 'EKM_FORBIDDEN' } });
    expect(await h.call('decide', { principalId: acmeAdmin, action: 'keys:Decrypt', resource: {} }, { principal: p })).toMatchObject({ ok: false, error: { code: 'EKM_FORBIDDEN' } });
    dataOf(await h.call('delete-policy', { policyId: 'acme-lock' }, { principal: acmeAdmin }));
    expect(dataOf(await decide({})).allowed).toBe(true);
    const listed = dataOf(await h.call<{ policies: { policyId: string }[] }>('list-policies', { tenant: 'acme' }, { principal: acmeAdmin }));
    expect(listed.policies.map((x) => x.policyId)).toEqual(['acme-app']);
  });

  it('rotate keeps both credentials during the grace; revoking the principal denies its decisions', async () => {
    const p = app.principal.principalId;
    const rotated = dataOf(await h.call<Created & { principal: { credentials: { credentialId: string; validUntil: string | null }[] } }>('rotate-credential', { principalId: p, graceSeconds: 60 }, { principal: acmeAdmin }));
    expect(rotated.credential.credentialId).not.toBe(app.credential.credentialId);
    const creds = rotated.principal.credentials;
    expect(creds.find((c) => c.credentialId === app.credential.credentialId)?.validUntil).not.toBeNull();
    expect(creds.find((c) => c.credentialId === rotated.credential.credentialId)?.validUntil).toBeNull();
    dataOf(await h.call('revoke-principal', { principalId: p }, { principal: acmeAdmin }));
    const d = dataOf(await h.call<{ allowed: boolean; reason: string }>('decide', { principalId: p, action: 'keys:Decrypt', resource: { keyId: 'k-1', tenant: 'acme' }, encryptionContext: { collection: 'docs' } }));
    expect(d).toEqual({ allowed: false, reason: `principal ${p} is revoked` });
    expect(await h.call('revoke-principal', { principalId: p }, { principal: acmeAdmin })).toMatchObject({ ok: false, error: { code: 'EKM_CONFLICT' } });
    const types = await h.db.query<{ event_type: string }>(`SELECT event_type FROM ekm_policy.events WHERE stream_id = $1 ORDER BY stream_position`, [`principal-${p}`]);
    expect(types.rows.map((r) => r.event_type)).toEqual(['PrincipalCreated', 'CredentialIssued', 'CredentialRotated', 'PrincipalRevoked']);
  });

  it('status, login, get-policy, revoke-credential, the access keys and the SigV4 login answer replies their schemas accept', async () => {
    dataOf(await h.call('status', {}));
    const cred = JSON.parse(readFileSync(join(dir, 'sub', 'admin.credentials'), 'utf8')) as CredentialFile;
    expect(dataOf(await h.call<{ principalId: string }>('login', signLoginRequest(cred))).principalId).toBe(admin);
    expect(dataOf(await h.call<{ version: number }>('get-policy', { policyId: 'acme-app' }, { principal: acmeAdmin })).version).toBe(1);
    const svc = dataOf(await h.call<Created>('create-principal', { tenant: 'acme', roles: ['app'], kind: 'service', name: 'svc' }, { principal: acmeAdmin }));
    const p = svc.principal.principalId;
    dataOf(await h.call('rotate-credential', { principalId: p, graceSeconds: 0 }, { principal: acmeAdmin }));
    dataOf(await h.call('revoke-credential', { principalId: p, credentialId: svc.credential.credentialId }, { principal: acmeAdmin }));

    const key = dataOf(await h.call<{ accessKeyId: string; secretAccessKey: string }>('create-access-key', { principalId: p }, { principal: acmeAdmin }));
    expect(dataOf(await h.call<{ accessKeys: unknown[] }>('list-access-keys', { principalId: p }, { principal: acmeAdmin })).accessKeys).toHaveLength(1);
    const now = new Date();
    const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const scope = { date: amzDate.slice(0, 8), region: 'eu-west-1', service: 'kms' };
    const stringToSign = ['AWS4-HMAC-SHA256', amzDate, sigV4Scope(scope), 'ab'.repeat(32)].join('\n');
    const session = dataOf(await h.call<{ principalId: string }>('access-key-login', {
      accessKeyId: key.accessKeyId, ...scope, stringToSign, signature: sigV4Signature(key.secretAccessKey, scope, stringToSign), clientKey: agreementKeyPair().publicKey,
    }));
    expect(session.principalId).toBe(p);
    expect(dataOf(await h.call<{ status: string }>('delete-access-key', { accessKeyId: key.accessKeyId }, { principal: acmeAdmin })).status).toBe('Deleted');
  });

  it('every policy subject has been answered at least once above, and each reply parsed with its strict schema (the harness parses them)', () => {
    expect([...h.checkedReplies].sort()).toEqual([...OPERATIONS.policy].sort());
  });
});
