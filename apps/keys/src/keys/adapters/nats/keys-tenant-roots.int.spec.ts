/**
 * Tenant root keys through the keys service on real Postgres and NATS: a root row per tenant on its
 * first key, KEK rows wrapped under it, rows from before tenant roots still opening, a database edit
 * moving a row to another tenant's root refused, and set-tenant-root-external failing closed (typed,
 * audited, nothing stored, no credential anywhere) when the external KMS cannot be reached.
 */
import type { Reply } from '@ekm/contracts';
import { EPOCH_KEYRING, type EpochKeyring } from '../../application/epochs/epoch-keyring';
import { TENANT_ROOT_KEYRING, type TenantRootKeyring } from '../../application/tenant-roots/tenant-root-keyring';
import { dataOf, startKeysHarness, type Harness } from './keys-admin.test-harness';
import { USAGE_RECORDS } from '../../../../../../test/support/usage-records';

const ctx = { collection: 'docs' };
const SECRET = 'wJalrXUtnFEMI-never-anywhere-0123456789';

const errorOf = (r: Reply<unknown>) => {
  if (r.ok) throw new Error('expected a refusal');
  return r.error;
};

describe('tenant root keys', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startKeysHarness({ EKM_KEK_CACHE_TTL_MS: '0', EKM_EPOCH_TICK_MS: '600000', EKM_XKS_TIMEOUT_MS: '1000', EKM_XKS_ALLOWED_ENDPOINTS: 'https://127.0.0.1:1' });
  }, 60_000);
  afterAll(async () => h?.close());

  const createKey = async (tenant: string) => dataOf(await h.call<{ keyId: string }>('create-key', { tenant })).keyId;
  const encrypt = async (keyId: string, text: string) =>
    dataOf(await h.call<{ ciphertextBlob: string }>('encrypt', { keyId, plaintext: Buffer.from(text).toString('base64'), encryptionContext: ctx })).ciphertextBlob;
  const decrypt = (blob: string) => h.call<{ plaintext: string }>('decrypt', { ciphertextBlob: blob, encryptionContext: ctx });
  const text = (r: Reply<{ plaintext: string }>) => Buffer.from(dataOf(r).plaintext, 'base64').toString();
  const rows = async (keyId: string) =>
    (await h.db.query<{ version: number; tenant_root: string | null }>('SELECT version, tenant_root FROM ekm_keys.key_material WHERE key_id = $1 ORDER BY version', [keyId])).rows;

  it("creates one root row per tenant on its first key and wraps the tenant's KEKs under it", async () => {
    const a1 = await createKey('roots-a');
    const a2 = await createKey('roots-a');
    const b1 = await createKey('roots-b');
    const { rows: roots } = await h.db.query<{ key_id: string }>(`SELECT key_id FROM ekm_keys.key_material WHERE key_id LIKE 'tenant-root:roots-%' ORDER BY 1`);
    expect(roots.map((r) => r.key_id)).toEqual(['tenant-root:roots-a', 'tenant-root:roots-b']);
    expect(await rows(a1)).toEqual([{ version: 1, tenant_root: 'roots-a' }]);
    expect(await rows(a2)).toEqual([{ version: 1, tenant_root: 'roots-a' }]);
    expect(await rows(b1)).toEqual([{ version: 1, tenant_root: 'roots-b' }]);
    expect(text(await decrypt(await encrypt(a1, 'hello a')))).toBe('hello a');
    expect(dataOf(await h.call('describe-tenant-root', { tenant: 'roots-a' }))).toMatchObject({ tenant: 'roots-a', kind: 'LOCAL' });
    expect(dataOf(await h.call('describe-tenant-root', { tenant: 'roots-none' }))).toEqual({ tenant: 'roots-none', kind: 'NONE' });
  });

  it('a row written before tenant roots (tenant_root NULL) keeps opening; the next version of that key gets the tenant root', async () => {
    const keyId = await createKey('roots-legacy');
    const blob = await encrypt(keyId, 'from before');
    // Turn the row into what an older release wrote: the same KEK under the epoch layer alone.
    const { rows: [row] } = await h.db.query<{ wrapped: Buffer; epoch: string; material_ref: string; tenant_root: string }>(
      'SELECT wrapped, epoch, material_ref, tenant_root FROM ekm_keys.key_material WHERE key_id = $1', [keyId]);
    const kek = await h.svc.app.get<TenantRootKeyring>(TENANT_ROOT_KEYRING).unwrap({ keyId, version: 1, materialRef: row!.material_ref, epoch: row!.epoch, wrapped: row!.wrapped, tenantRoot: row!.tenant_root });
    const legacy = await h.svc.app.get<EpochKeyring>(EPOCH_KEYRING).wrap(kek);
    kek.dispose();
    await h.db.query('UPDATE ekm_keys.key_material SET wrapped = $2, epoch = $3, tenant_root = NULL WHERE key_id = $1', [keyId, legacy.wrapped, legacy.epoch]);
    expect(text(await decrypt(blob))).toBe('from before');
    expect(dataOf(await h.call('rotate-key', { keyId }))).toMatchObject({ primaryVersion: 2 });
    expect(await rows(keyId)).toEqual([{ version: 1, tenant_root: null }, { version: 2, tenant_root: 'roots-legacy' }]);
    expect(text(await decrypt(await encrypt(keyId, 'after')))).toBe('after');
    expect(text(await decrypt(blob))).toBe('from before');
  });

  it("refuses a KEK row moved to another tenant's root by a database edit", async () => {
    const keyId = await createKey('roots-victim');
    await createKey('roots-other');
    const blob = await encrypt(keyId, 'secret');
    await h.db.query(`UPDATE ekm_keys.key_material SET tenant_root = 'roots-other' WHERE key_id = $1`, [keyId]);
    expect(errorOf(await decrypt(blob)).code).toBe('EKM_ROOT_KEY_UNAVAILABLE');
    await h.db.query(`UPDATE ekm_keys.key_material SET tenant_root = 'roots-victim' WHERE key_id = $1`, [keyId]);
    expect(text(await decrypt(blob))).toBe('secret');
  });

  it('set-tenant-root-external fails closed when the external KMS is unreachable: typed, audited, nothing changed, no credential anywhere', async () => {
    const keyId = await createKey('roots-xks');
    const blob = await encrypt(keyId, 'still local');
    const { rows: [before] } = await h.db.query<{ wrapped: Buffer }>(`SELECT wrapped FROM ekm_keys.key_material WHERE key_id = 'tenant-root:roots-xks'`);
    const r = await h.call('set-tenant-root-external', {
      tenant: 'roots-xks', endpoint: 'https://127.0.0.1:1', region: 'eu-west-1', keyId: 'k-1', credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: SECRET },
    });
    const e = errorOf(r);
    expect(e.code).toBe('EKM_EXTERNAL_KEY_UNAVAILABLE');
    expect(e.message).toContain('UNREACHABLE');
    expect(JSON.stringify(r)).not.toContain(SECRET);
    const { rows: [after] } = await h.db.query<{ wrapped: Buffer }>(`SELECT wrapped FROM ekm_keys.key_material WHERE key_id = 'tenant-root:roots-xks'`);
    expect(after!.wrapped.equals(before!.wrapped)).toBe(true);
    expect(dataOf(await h.call('describe-tenant-root', { tenant: 'roots-xks' }))).toMatchObject({ kind: 'LOCAL' });
    expect(text(await decrypt(blob))).toBe('still local');
    const { rows: usage } = await h.db.query<{ data: { operation: string; outcome: string; tenant?: string; errorCode?: string } }>(
      `SELECT data FROM ${USAGE_RECORDS} WHERE data->>'operation' = 'SetTenantRootExternal'`);
    expect(usage.map((u) => u.data)).toEqual([expect.objectContaining({ outcome: 'FAILED', tenant: 'roots-xks', errorCode: 'EKM_EXTERNAL_KEY_UNAVAILABLE' })]);
    const { rows: [leak] } = await h.db.query<{ n: string }>(`SELECT count(*) AS n FROM ekm_keys.events WHERE data::text LIKE $1 OR metadata::text LIKE $1`, [`%${SECRET}%`]);
    expect(Number(leak!.n)).toBe(0);
  });

  it('set-tenant-root-external validates its request', async () => {
    const base = { tenant: 'roots-v', endpoint: 'https://kms.example', region: 'eu-west-1', keyId: 'k', credentials: { accessKeyId: 'A', secretAccessKey: SECRET } };
    for (const bad of [{ ...base, endpoint: 'http://kms.example' }, { ...base, region: 'EU WEST' }, { ...base, credentials: { accessKeyId: 'A' } }, { ...base, extra: 1 }]) {
      const r = await h.call('set-tenant-root-external', bad);
      expect(errorOf(r).code).toBe('EKM_VALIDATION');
      expect(JSON.stringify(r)).not.toContain(SECRET);
    }
    // Well-formed, but not an origin this keys service may call (EKM_XKS_ALLOWED_ENDPOINTS): refused, not tried.
    const refused = errorOf(await h.call('set-tenant-root-external', base));
    expect(refused).toMatchObject({ code: 'EKM_VALIDATION', message: expect.stringContaining('EKM_XKS_ALLOWED_ENDPOINTS') });
    expect(dataOf(await h.call('describe-tenant-root', { tenant: 'roots-v' }))).not.toMatchObject({ kind: 'EXTERNAL' });
  });
});
