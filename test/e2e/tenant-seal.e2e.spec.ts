/**
 * The tenant kill switch on the real stack (EKM_AUTH=required, policy authorizer, two keys replicas on
 * one Postgres and one NATS, the audit service):
 * - tenant A under load (GenerateDataKey/Decrypt loop) and tenant B under load; A's admin seals A with an
 *   unseal secret → A's requests fail with EKM_TENANT_SEALED on BOTH replicas within the 1 s bound
 *   (a condition wait whose deadline is the bound), lifecycle calls too; B never fails;
 * - who may: A's app principal (no policy) and B's admin (another tenant) can neither seal, unseal nor
 *   read A's seal status;
 * - a wrong secret is refused (EKM_UNSEAL_SECRET_INVALID) and recorded; the right one restores A;
 * - the trail has TenantSealed/TenantUnsealed with the actor; the secret is in no table, event or log.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { EkmClient, EkmError, PolicyClient, TenantsClient } from '@ekm/client';
import type { ServiceApp } from '@ekm/service-kit';
import { startPolicyHarness, type PolicyHarness } from '../../apps/policy/src/access/adapters/nats/policy.test-harness';
import { KeyAccess } from '../../apps/keys/src/keys/application/crypto/key-access';
import { TENANT_SEAL_GATE } from '../../apps/keys/src/keys/application/tenants/tenant-seal.ports';
import type { StreamTenantSealGate } from '../../apps/keys/src/keys/application/tenants/tenant-seal-gate';
import { createTestDatabase } from '../support/pg';
import { startNats, stopServer, type ServerHandle } from '../support/servers';
import { waitFor } from '../support/wait-for';
import { auditEnv, startAuditApp } from './audit.support';
import { startKeysApp, type KeysApp } from './keys-crypto.support';

const SECRET = `seal-e2e-secret-${randomUUID()}`;
const AUTH = { EKM_AUTH: 'required', EKM_AUTH_SECRET: SECRET };
const UNSEAL_SECRET = `tenant-held-${randomUUID()}`;
/** The promise: every replica refuses a sealed tenant within one second, even without the relayed event. */
const SEAL_BOUND_MS = 1_000;

interface Tally { ok: number; sealed: number; other: string[] }

describe('tenant kill switch (two keys replicas, policy, audit; e2e)', () => {
  let nats: ServerHandle;
  let policy: PolicyHarness;
  let r1: KeysApp;
  let r2: KeysApp;
  let audit: ServiceApp;
  let pg: Client;
  let dir: string;
  const clients: EkmClient[] = [];
  let appA: EkmClient;
  let adminA: EkmClient;
  let adminB: EkmClient;
  let appB: EkmClient;
  let principalA: string;
  let principalAdminA: string;
  let keyA: string;
  let keyB: string;

  const clientOf = async (credentials: unknown): Promise<EkmClient> => {
    const c = await EkmClient.connect({ servers: nats.url, credentials: credentials as never, timeoutMs: 10_000, maxAttempts: 1 });
    clients.push(c);
    return c;
  };
  const codeOf = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
      return 'OK';
    } catch (err) {
      if (err instanceof EkmError) return err.code;
      throw err;
    }
  };
  /** What replica `r` answers tenant A's principal at the access step right now. */
  const accessOf = async (r: KeysApp): Promise<string> => {
    const g = await r.svc.app.get(KeyAccess, { strict: false }).check(keyA, { principal: principalA, operation: 'GenerateDataKey', context: {} });
    return g.ok ? 'OK' : g.failure.kind;
  };
  const gateOf = (r: KeysApp): StreamTenantSealGate => r.svc.app.get<symbol, StreamTenantSealGate>(TENANT_SEAL_GATE, { strict: false });

  beforeAll(async () => {
    nats = await startNats();
    dir = mkdtempSync(join(tmpdir(), 'ekm-seal-e2e-'));
    process.env.EKM_BOOTSTRAP_CREDENTIALS_FILE = join(dir, 'admin.credentials');
    policy = await startPolicyHarness({ natsUrl: nats.url, env: AUTH });
    const db = await createTestDatabase('ekm_seal');
    // Replicas share the sealed software root (one data dir), as they would share an HSM.
    const shared = { ...AUTH, EKM_AUTHZ: 'policy', EKM_DATA_DIR: mkdtempSync(join(tmpdir(), 'ekm-seal-keys-')) };
    r1 = await startKeysApp(nats.url, db, shared);
    r2 = await startKeysApp(nats.url, db, shared);
    audit = (await startAuditApp(auditEnv(nats.url, db, { ...AUTH, EKM_AUDIT_SOURCES: 'keys' }))).svc;
    pg = new Client({ connectionString: db.url });
    await pg.connect();

    const operator = await clientOf(join(dir, 'admin.credentials'));
    const p = new PolicyClient(operator);
    const ca = await p.createPrincipal({ tenant: 'ta', roles: ['app'] });
    const caa = await p.createPrincipal({ tenant: 'ta', roles: ['admin'] });
    const cb = await p.createPrincipal({ tenant: 'tb', roles: ['app', 'admin'] });
    principalA = ca.principal.principalId;
    principalAdminA = caa.principal.principalId;
    const dataPlane = ['keys:CreateKey', 'keys:DescribeKey', 'keys:ListKeys', 'keys:GenerateDataKey', 'keys:Decrypt'];
    await p.putPolicy({ policyId: 'apps', tenant: '*', document: { statements: [{ sid: 'apps', effect: 'allow', roles: ['app'], actions: dataPlane, resources: ['*'] }] } });
    // Who may pull the kill switch is explicit: a tenant's admins (tenant isolation confines them to their own tenant).
    await p.putPolicy({ policyId: 'sealers', tenant: '*', document: { statements: [{ sid: 'seal', effect: 'allow', roles: ['admin'], actions: ['keys:SealTenant', 'keys:UnsealTenant', 'keys:GetTenantSealStatus'], resources: ['*'] }] } });
    appA = await clientOf(ca.credential);
    adminA = await clientOf(caa.credential);
    const b = await clientOf(cb.credential);
    adminB = b;
    appB = b;
    keyA = (await appA.call<{ keyId: string }>('keys', 'create-key', { tenant: 'ta' })).keyId;
    keyB = (await appB.call<{ keyId: string }>('keys', 'create-key', { tenant: 'tb' })).keyId;
  }, 180_000);

  afterAll(async () => {
    delete process.env.EKM_BOOTSTRAP_CREDENTIALS_FILE;
    for (const c of clients) await c.close().catch(() => undefined);
    await audit?.close().catch(() => undefined);
    await r1?.svc.close().catch(() => undefined);
    await r2?.svc.close().catch(() => undefined);
    await policy?.close();
    await pg?.end();
    if (nats) await stopServer(nats);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('no principal of another tenant, nor one without the policy, may seal, unseal or read the seal status of A', async () => {
    for (const c of [adminB, appA]) {
      const t = new TenantsClient(c);
      expect(await codeOf(t.sealTenant('ta', { reason: 'hostile' }))).toBe('EKM_FORBIDDEN');
      expect(await codeOf(t.unsealTenant('ta'))).toBe('EKM_FORBIDDEN');
      expect(await codeOf(t.getTenantSealStatus('ta'))).toBe('EKM_FORBIDDEN');
    }
    expect(await new TenantsClient(adminA).getTenantSealStatus('ta')).toEqual({ tenant: 'ta', sealed: false, secretRequired: false });
    const { rows } = await pg.query(`SELECT 1 FROM ekm_keys.events WHERE stream_id = 'tenant-ta'`);
    expect(rows).toHaveLength(0);
  });

  it('seal under load: A fails with EKM_TENANT_SEALED on both replicas within the bound, B never fails; unseal needs the secret and restores A', async () => {
    let running = true;
    const tallyA: Tally = { ok: 0, sealed: 0, other: [] };
    const tallyB: Tally = { ok: 0, sealed: 0, other: [] };
    const loop = async (c: EkmClient, keyId: string, t: Tally): Promise<void> => {
      while (running) {
        try {
          const dk = await c.call<{ ciphertextBlob: string }>('keys', 'generate-data-key', { keyId });
          await c.call('keys', 'decrypt', { ciphertextBlob: dk.ciphertextBlob });
          t.ok++;
        } catch (err) {
          if (err instanceof EkmError && err.code === 'EKM_TENANT_SEALED') t.sealed++;
          else t.other.push(err instanceof EkmError ? err.code : String(err));
        }
      }
    };
    const loops = [loop(appA, keyA, tallyA), loop(appA, keyA, tallyA), loop(appB, keyB, tallyB), loop(appB, keyB, tallyB)];
    try {
      await waitFor(() => tallyA.ok > 20 && tallyB.ok > 20, { what: 'both tenants under load' });
      expect([await accessOf(r1), await accessOf(r2)]).toEqual(['OK', 'OK']);
      const drops = [gateOf(r1).stats.invalidations, gateOf(r2).stats.invalidations];

      const sealed = await new TenantsClient(adminA).sealTenant('ta', { reason: 'suspected leak', unsealSecret: UNSEAL_SECRET });
      expect(sealed).toMatchObject({ tenant: 'ta', sealed: true, secretRequired: true });
      // The bound itself is the deadline: both replicas refuse A at the access step within it.
      await waitFor(async () => (await accessOf(r1)) === 'TENANT_SEALED' && (await accessOf(r2)) === 'TENANT_SEALED',
        { what: 'both replicas refusing tenant A', timeoutMs: SEAL_BOUND_MS, intervalMs: 10 });
      // The relayed TenantSealed dropped the cached seal answer on both replicas (not only the max age).
      await waitFor(() => gateOf(r1).stats.invalidations > drops[0]! && gateOf(r2).stats.invalidations > drops[1]!, { what: 'the relayed seal event on both replicas' });
      const sealedSeen = tallyA.sealed;
      await waitFor(() => tallyA.sealed > sealedSeen + 10, { what: 'A\'s loop refused EKM_TENANT_SEALED' });
      const okAfterSeal = tallyA.ok;
      await waitFor(() => tallyA.sealed > sealedSeen + 40, { what: 'more refusals of A' });
      expect(tallyA.ok).toBe(okAfterSeal);
      // Lifecycle calls, list and describe included, are refused too; the status answers the admin.
      expect(await codeOf(appA.call('keys', 'describe-key', { keyId: keyA }))).toBe('EKM_TENANT_SEALED');
      expect(await codeOf(appA.call('keys', 'list-keys', { tenant: 'ta' }))).toBe('EKM_TENANT_SEALED');
      expect(await codeOf(appA.call('keys', 'create-key', { tenant: 'ta' }))).toBe('EKM_TENANT_SEALED');
      expect(await new TenantsClient(adminA).getTenantSealStatus('ta')).toMatchObject({ sealed: true, secretRequired: true });
      expect(await codeOf(new TenantsClient(adminA).sealTenant('ta'))).toBe('EKM_CONFLICT');

      // Unseal: without the secret and with a wrong one it is refused (and recorded), with it A is back.
      const wrongRequest = randomUUID();
      expect(await codeOf(new TenantsClient(adminA).unsealTenant('ta'))).toBe('EKM_UNSEAL_SECRET_INVALID');
      expect(await codeOf(new TenantsClient(adminA).unsealTenant('ta', { unsealSecret: `${UNSEAL_SECRET}-wrong` }, { requestId: wrongRequest }))).toBe('EKM_UNSEAL_SECRET_INVALID');
      expect([await accessOf(r1), await accessOf(r2)]).toEqual(['TENANT_SEALED', 'TENANT_SEALED']);
      const refusedEntry = await waitFor(async () => {
        const { rows } = await pg.query<{ entry: string }>(`SELECT entry FROM ekm_audit.trail WHERE entry::jsonb -> 'request' ->> 'id' = $1`, [wrongRequest]);
        return rows[0] ? JSON.parse(rows[0].entry) as Record<string, unknown> : undefined;
      }, { what: 'the refused unseal in the trail', timeoutMs: 30_000 });
      expect(refusedEntry).toMatchObject({ action: 'UnsealTenant', outcome: 'failure', errorCode: 'EKM_UNSEAL_SECRET_INVALID', tenant: 'ta', actor: { principal: principalAdminA } });

      const unsealed = await new TenantsClient(adminA).unsealTenant('ta', { reason: 'incident closed', unsealSecret: UNSEAL_SECRET });
      expect(unsealed).toEqual({ tenant: 'ta', sealed: false, secretRequired: false });
      await waitFor(async () => (await accessOf(r1)) === 'OK' && (await accessOf(r2)) === 'OK', { what: 'both replicas serving A again' });
      const okBack = tallyA.ok;
      await waitFor(() => tallyA.ok > okBack + 20, { what: 'A\'s loop succeeding again' });
    } finally {
      running = false;
      await Promise.all(loops);
    }
    // Tenant B was never touched; nothing but seal refusals ever failed for A.
    expect(tallyB.sealed).toBe(0);
    expect(tallyB.other).toEqual([]);
    expect(tallyA.other).toEqual([]);
  });

  it('the trail records the seal and the unseal with the actor; the secret is in no table, event or log', async () => {
    const entries = await waitFor(async () => {
      const { rows } = await pg.query<{ entry: string }>(`SELECT entry FROM ekm_audit.trail WHERE tenant = 'ta' AND category = 'key_lifecycle' ORDER BY leaf_index`);
      const e = rows.map((r) => JSON.parse(r.entry) as { action: string; actor: { principal: string }; reason?: string });
      return e.some((x) => x.action === 'TenantUnsealed') ? e : undefined;
    }, { what: 'TenantSealed and TenantUnsealed in the trail', timeoutMs: 30_000 });
    const seals = entries.filter((e) => e.action === 'TenantSealed' || e.action === 'TenantUnsealed');
    expect(seals.map((e) => [e.action, e.actor.principal, e.reason])).toEqual([
      ['TenantSealed', principalAdminA, 'suspected leak'],
      ['TenantUnsealed', principalAdminA, 'incident closed'],
    ]);
    const { rows: verifiers } = await pg.query<{ hash: string }>(`SELECT hash FROM ekm_keys.unseal_verifiers WHERE tenant = 'ta'`);
    expect(verifiers).toHaveLength(1);
    for (const needle of [UNSEAL_SECRET, verifiers[0]!.hash]) {
      for (const [tbl, col] of [['ekm_keys.events', 'data'], ['ekm_keys.events', 'metadata'], ['ekm_audit.trail', 'entry']] as const) {
        const { rows } = await pg.query(`SELECT 1 FROM ${tbl} WHERE ${col}::text LIKE '%' || $1 || '%' LIMIT 1`, [needle]);
        expect(rows).toHaveLength(0);
      }
      expect([...r1.logs, ...r2.logs].some((l) => l.includes(needle))).toBe(false);
    }
    expect(await new TenantsClient(adminB).getTenantSealStatus('tb')).toEqual({ tenant: 'tb', sealed: false, secretRequired: false });
  });
});
