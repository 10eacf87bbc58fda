/**
 * Tenant isolation on every read and admin route, with EKM_AUTH=required on all four services (one
 * NATS, real Postgres; each principal signs with its own credential): a principal of tenant B is
 * refused on tenant A's audit trail, usage report, trail verification, rotation and re-wrap status,
 * policies, principals and decisions; nothing of A is in the reply; each refusal is a `denied` trail
 * entry naming B, the tenant it named and the operation. The keys service refuses B before it looks
 * at A's key state or purpose binding, and a CreateKey with A's request id is refused.
 */
import { agreementKeyPair } from '@ekm/auth';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { EkmClient, EkmError, PolicyClient, type IssuedCredential } from '@ekm/client';
import { loadConfig } from '@ekm/config';
import type { Operation, ServiceName } from '@ekm/contracts';
import { startServiceApp, type ServiceApp } from '@ekm/service-kit';
import { createLogger } from '@ekm/telemetry';
import { RotationModule } from '../../apps/rotation/src/rotation.module';
import { startPolicyHarness, type PolicyHarness } from '../../apps/policy/src/access/adapters/nats/policy.test-harness';
import { createTestDatabase, urlFor } from '../support/pg';
import { startNats, stopServer, type ServerHandle } from '../support/servers';
import { auditEnv, startAuditApp, waitFor } from './audit.support';
import { startKeysApp, type KeysApp } from './keys-crypto.support';

const SECRET = `isolation-e2e-secret-${randomUUID()}`;
const AUTH = { EKM_AUTH: 'required', EKM_AUTH_SECRET: SECRET };

interface Outcome { readonly ok: boolean; readonly code?: string; readonly text: string; readonly requestId: string }

describe('tenant isolation on read and admin routes (all services, EKM_AUTH=required)', () => {
  let nats: ServerHandle;
  let policy: PolicyHarness;
  let keys: KeysApp;
  let audit: ServiceApp;
  let rotation: ServiceApp;
  let pg: Client;
  let dir: string;
  const clients: EkmClient[] = [];
  let admin: EkmClient;
  let a: EkmClient;
  let b: EkmClient;
  let principalA: string;
  let principalB: string;
  let credA: IssuedCredential;
  let keyA: string;
  let boundKeyA: string;
  let disabledKeyA: string;
  let createRequestA = '';
  const from = new Date(Date.now() - 3_600_000).toISOString();
  const to = new Date(Date.now() + 3_600_000).toISOString();

  const clientOf = async (credentials: unknown): Promise<EkmClient> => {
    const c = await EkmClient.connect({ servers: nats.url, credentials: credentials as never, timeoutMs: 10_000, maxAttempts: 1 });
    clients.push(c);
    return c;
  };
  const attempt = async (c: EkmClient, service: ServiceName, op: string, body: unknown, requestId: string = randomUUID()): Promise<Outcome> => {
    try {
      const data = await c.call(service, op as Operation<ServiceName>, body, { requestId });
      return { ok: true, text: JSON.stringify(data), requestId };
    } catch (err) {
      if (!(err instanceof EkmError)) throw err;
      return { ok: false, code: err.code, text: JSON.stringify({ code: err.code, message: err.message, details: err.details }), requestId };
    }
  };
  /** The denied trail entry of one request id by B (waits for it; the relays and the trail are asynchronous). */
  const deniedEntryOf = (requestId: string, action: string): Promise<Record<string, unknown>> => waitFor(`denied ${action} entry of request ${requestId}`, async () => {
    const { rows } = await pg.query<{ entry: string }>(`SELECT entry FROM ekm_audit.trail WHERE entry::jsonb -> 'request' ->> 'id' = $1 AND outcome = 'denied'`, [requestId]);
    return rows.map((r) => JSON.parse(r.entry) as Record<string, unknown>).find((e) => e.action === action && (e.actor as { principal: string }).principal === principalB);
  }, 30_000);
  /**
   * Nothing that only tenant A's principals could know: A's credential, policy, context, principal and keys,
   * nor the name of tenant A — unless B's own request named it (a refusal may repeat what B sent).
   */
  const expectNothingOfA = (o: Outcome, named: readonly string[] = []): void => {
    if (!named.includes('ta')) expect(o.text).not.toMatch(/\bta\b/);
    for (const secret of [credA.credentialId, 'a-secret-sid', 'a-private-collection', principalA, keyA, boundKeyA, disabledKeyA]) {
      if (!named.includes(secret)) expect(o.text).not.toContain(secret);
    }
  };

  beforeAll(async () => {
    nats = await startNats();
    dir = mkdtempSync(join(tmpdir(), 'ekm-iso-e2e-'));
    process.env.EKM_BOOTSTRAP_CREDENTIALS_FILE = join(dir, 'admin.credentials');
    policy = await startPolicyHarness({ natsUrl: nats.url, env: AUTH });
    const db = await createTestDatabase('ekm_iso');
    keys = await startKeysApp(nats.url, db, { ...AUTH, EKM_AUTHZ: 'policy' });
    audit = (await startAuditApp(auditEnv(nats.url, db, { ...AUTH, EKM_AUDIT_SOURCES: 'keys,policy,rotation,audit' }))).svc;
    rotation = await startServiceApp({
      config: loadConfig('rotation', { EKM_NATS_URL: nats.url, EKM_DATABASE_ADMIN_URL: db.url, EKM_DATABASE_URL: urlFor(db.name, 'ekm_rotation'), EKM_HTTP_PORT: '0', ...AUTH, EKM_DATA_DIR: dir }),
      module: RotationModule, logger: createLogger('rotation', { level: 'silent' }),
    });
    pg = new Client({ connectionString: db.url });
    await pg.connect();

    admin = await clientOf(join(dir, 'admin.credentials'));
    const p = new PolicyClient(admin);
    const ca = await p.createPrincipal({ tenant: 'ta', roles: ['app'] });
    const cb = await p.createPrincipal({ tenant: 'tb', roles: ['app', 'admin'] });
    principalA = ca.principal.principalId;
    principalB = cb.principal.principalId;
    credA = ca.credential;
    await p.putPolicy({ policyId: 'apps', tenant: '*', document: { statements: [{ sid: 'all', effect: 'allow', roles: ['app'], actions: ['keys:*'], resources: ['*'] }] } });
    await p.putPolicy({ policyId: 'a-policy', tenant: 'ta', document: { statements: [{ sid: 'a-secret-sid', effect: 'deny', principals: ['*'], actions: ['keys:ScheduleKeyDeletion'], resources: ['*'] }] } });
    a = await clientOf(ca.credential);
    b = await clientOf(cb.credential);
    createRequestA = randomUUID();
    keyA = (await a.call<{ keyId: string }>('keys', 'create-key', { tenant: 'ta' }, { requestId: createRequestA })).keyId;
    boundKeyA = (await a.call<{ keyId: string }>('keys', 'create-key', { tenant: 'ta', requiredContext: { collection: 'a-private-collection' } })).keyId;
    disabledKeyA = (await a.call<{ keyId: string }>('keys', 'create-key', { tenant: 'ta' })).keyId;
    await a.call('keys', 'disable-key', { keyId: disabledKeyA });
    await a.call('keys', 'generate-data-key', { keyId: keyA, encryptionContext: { tenant: 'ta', collection: 'a-private-collection', asset: 'a-doc' } });
    // The trail and the rotation projection know A's keys before B starts probing.
    await waitFor('A\'s entries in the trail', async () => (await pg.query(`SELECT 1 FROM ekm_audit.trail WHERE tenant = 'ta' AND key_id = $1`, [keyA])).rows.length > 0, 30_000);
    await waitFor('A\'s key in the rotation projection', async () => (await pg.query(`SELECT 1 FROM ekm_rotation.schedule_keys WHERE key_id = $1 AND tenant = 'ta'`, [keyA])).rows.length > 0, 30_000);
  }, 180_000);

  afterAll(async () => {
    delete process.env.EKM_BOOTSTRAP_CREDENTIALS_FILE;
    for (const c of clients) await c.close().catch(() => undefined);
    await rotation?.close().catch(() => undefined);
    await audit?.close().catch(() => undefined);
    await keys?.svc.close().catch(() => undefined);
    await policy?.close();
    await pg?.end();
    if (nats) await stopServer(nats);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const routes: readonly [string, ServiceName, string, string, () => unknown, string[], () => string[]][] = [
    // [what, service, op, trail action, body, accepted codes, names B sent (allowed to appear in the reply)]
    ['audit query of tenant A', 'audit', 'query', 'AuditQuery', () => ({ tenant: 'ta' }), ['EKM_FORBIDDEN'], () => []],
    ['audit query of A\'s key', 'audit', 'query', 'AuditQuery', () => ({ keyId: keyA }), ['EKM_FORBIDDEN'], () => [keyA]],
    ['usage report of tenant A', 'audit', 'report', 'AuditReport', () => ({ from, to, tenant: 'ta' }), ['EKM_FORBIDDEN'], () => []],
    ['usage report of A\'s key', 'audit', 'report', 'AuditReport', () => ({ from, to, keyId: keyA }), ['EKM_FORBIDDEN'], () => [keyA]],
    ['trail verification (operator only)', 'audit', 'verify', 'AuditVerify', () => ({}), ['EKM_FORBIDDEN'], () => []],
    ['re-wrap status of A\'s key', 'rotation', 'rewrap-status', 'RewrapStatus', () => ({ keyId: keyA }), ['EKM_FORBIDDEN'], () => [keyA]],
    ['retirement check of A\'s key', 'rotation', 'check-version-retirement', 'CheckVersionRetirement', () => ({ keyId: keyA }), ['EKM_FORBIDDEN'], () => [keyA]],
    ['get A\'s policy', 'policy', 'get-policy', 'GetPolicy', () => ({ policyId: 'a-policy' }), ['EKM_NOT_FOUND'], () => []],
    ['list A\'s policies', 'policy', 'list-policies', 'ListPolicies', () => ({ tenant: 'ta' }), ['EKM_FORBIDDEN'], () => []],
    ['delete A\'s policy', 'policy', 'delete-policy', 'DeletePolicy', () => ({ policyId: 'a-policy' }), ['EKM_NOT_FOUND'], () => []],
    ['put a policy for tenant A', 'policy', 'put-policy', 'PutPolicy', () => ({ policyId: 'b-into-a', tenant: 'ta', document: { statements: [{ sid: 's', effect: 'allow', principals: ['*'], actions: ['keys:*'], resources: ['*'] }] } }), ['EKM_FORBIDDEN'], () => []],
    ['simulate A\'s decisions', 'policy', 'simulate', 'Simulate', () => ({ principalId: principalA, action: 'keys:Decrypt', resource: { keyId: keyA, tenant: 'ta' } }), ['EKM_FORBIDDEN'], () => [principalA, keyA]],
    ['decide for A', 'policy', 'decide', 'Decide', () => ({ principalId: principalA, action: 'keys:Decrypt', resource: { keyId: keyA, tenant: 'ta' } }), ['EKM_FORBIDDEN'], () => [principalA, keyA]],
    ['get A\'s principal', 'policy', 'get-principal', 'GetPrincipal', () => ({ principalId: principalA }), ['EKM_NOT_FOUND'], () => [principalA]],
    ['list A\'s principals', 'policy', 'list-principals', 'ListPrincipals', () => ({ tenant: 'ta' }), ['EKM_FORBIDDEN'], () => []],
    ['create a principal in tenant A', 'policy', 'create-principal', 'CreatePrincipal', () => ({ tenant: 'ta', roles: ['app'] }), ['EKM_FORBIDDEN'], () => []],
    ['revoke A\'s principal', 'policy', 'revoke-principal', 'RevokePrincipal', () => ({ principalId: principalA }), ['EKM_NOT_FOUND'], () => [principalA]],
    ['rotate A\'s credential', 'policy', 'rotate-credential', 'RotateCredential', () => ({ principalId: principalA }), ['EKM_NOT_FOUND'], () => [principalA]],
    ['use A\'s disabled key (state is not revealed)', 'keys', 'generate-data-key', 'GenerateDataKey', () => ({ keyId: disabledKeyA }), ['EKM_FORBIDDEN'], () => [disabledKeyA]],
    ['encrypt under A\'s purpose-bound key with another context (binding not revealed)', 'keys', 'encrypt', 'Encrypt', () => ({ keyId: boundKeyA, plaintext: 'eA==', encryptionContext: { collection: 'x' } }), ['EKM_FORBIDDEN'], () => [boundKeyA]],
  ];

  it.each(routes)('B cannot %s: refused, nothing of A in the reply, a denied trail entry', async (_what, service, op, action, body, codes, named) => {
    const o = await attempt(b, service, op, body());
    expect(o.ok).toBe(false);
    expect(codes).toContain(o.code);
    expectNothingOfA(o, [...named(), ...(JSON.stringify(body()).includes('"ta"') ? ['ta'] : [])]);
    const entry = await deniedEntryOf(o.requestId, action);
    expect(entry).toMatchObject({ outcome: 'denied', errorCode: o.code, actor: { principal: principalB } });
  });

  it('the request-id reuse attack: CreateKey with A\'s request id is refused (no KeyInfo of A), and recorded as denied', async () => {
    const o = await attempt(b, 'keys', 'create-key', { tenant: 'tb' }, createRequestA);
    expect(o).toMatchObject({ ok: false, code: 'EKM_FORBIDDEN' });
    expectNothingOfA(o);
    expect(await deniedEntryOf(createRequestA, 'CreateKey')).toMatchObject({ errorCode: 'EKM_FORBIDDEN', tenant: 'tb' });
    // A's own retry still answers A with its key.
    expect(await a.call<{ keyId: string }>('keys', 'create-key', { tenant: 'ta' }, { requestId: createRequestA })).toMatchObject({ keyId: keyA });
  });

  it.each([
    ['audit query without a tenant', 'audit', 'query', { limit: 1000 }],
    ['usage report without a tenant', 'audit', 'report', { from, to }],
    ['rotation status', 'rotation', 'status', {}],
    ['principal list without a tenant', 'policy', 'list-principals', {}],
    ['policy list without a tenant', 'policy', 'list-policies', {}],
  ] as const)('B\'s %s answers with its own tenant only', async (_what, service, op, body) => {
    const o = await attempt(b, service, op, body);
    expect(o.ok).toBe(true);
    expectNothingOfA(o);
  });

  it('a failed login (wrong proof for A\'s credential) is an authentication failure in the trail, naming the claimed principal', async () => {
    const body = { principalId: principalA, credentialId: credA.credentialId, timestamp: Date.now(), nonce: randomUUID().replace(/-/g, ''), clientKey: agreementKeyPair().publicKey, signature: 'A'.repeat(86) };
    const o = await attempt(b, 'policy', 'login', body);
    expect(o).toMatchObject({ ok: false, code: 'EKM_UNAUTHENTICATED' });
    const entry = await waitFor('failed login entry', async () => {
      const { rows } = await pg.query<{ entry: string }>(`SELECT entry FROM ekm_audit.trail WHERE entry::jsonb -> 'request' ->> 'id' = $1 AND action = 'authenticate'`, [o.requestId]);
      return rows[0] ? JSON.parse(rows[0].entry) as Record<string, unknown> : undefined;
    }, 30_000);
    expect(entry).toMatchObject({ category: 'authentication', outcome: 'denied', actor: { principal: principalA }, reason: 'LOGIN_PROOF_INVALID', source: { service: 'policy' } });
  });

  it('operator scope still reads every tenant', async () => {
    const page = await admin.call<{ entries: { tenant?: string }[] }>('audit', 'query', { tenant: 'ta' });
    expect(page.entries.length).toBeGreaterThan(0);
    expect(page.entries.every((e) => e.tenant === 'ta')).toBe(true);
    await expect(admin.call('audit', 'verify', {})).resolves.toMatchObject({ ok: true });
    await expect(admin.call('rotation', 'rewrap-status', { keyId: keyA })).resolves.toMatchObject({ keyId: keyA });
  });
});
