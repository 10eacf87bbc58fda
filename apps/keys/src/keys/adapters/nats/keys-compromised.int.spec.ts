/**
 * Per-version Compromised over the bus (real Postgres and nats-server, allow-all authorization, which
 * never grants keys:DecryptCompromised): the version stops encrypting and decrypting at once, its data
 * is saved with ReEncrypt to the primary, and a revoked key's data can be re-encrypted to another key.
 */
import type { KeyInfo, KeyVersionInfo } from '../../domain';
import { dataOf, startKeysHarness, type Harness } from './keys-admin.test-harness';

let h: Harness;
beforeAll(async () => {
  h = await startKeysHarness();
}, 60_000);
afterAll(async () => h?.close());

const ctx = { collection: 'docs' };
type Blob = { keyId: string; keyVersion: number; ciphertextBlob: string };
const b64 = (s: string) => Buffer.from(s).toString('base64');
const encrypt = async (keyId: string, text: string) => dataOf(await h.call<Blob>('encrypt', { keyId, plaintext: b64(text), encryptionContext: ctx }));
const decrypt = (blob: string) => h.call<{ plaintext: string; keyVersion: number }>('decrypt', { ciphertextBlob: blob, encryptionContext: ctx });

it('a compromised version never encrypts, refuses decrypt without the permission, and ReEncrypt moves its data to the primary', async () => {
  const { keyId } = dataOf(await h.call<KeyInfo>('create-key', { tenant: 'cmp', requiredContext: ctx }));
  const old = await encrypt(keyId, 'under v1');
  const refusedPrimary = await h.call('mark-key-version-compromised', { keyId, version: 1, reason: 'leak' });
  expect(refusedPrimary).toMatchObject({ ok: false, error: { code: 'EKM_PRIMARY_VERSION_LOCKED', message: expect.stringContaining('rotate the key first') } });
  dataOf(await h.call('rotate-key', { keyId }));
  const before = await h.keyEvents();
  dataOf(await h.call<KeyInfo>('mark-key-version-compromised', { keyId, version: 1, reason: 'v1 found in a log' }));
  expect(await h.keyEvents()).toBe(before + 1);
  dataOf(await h.call<KeyInfo>('mark-key-version-compromised', { keyId, version: 1 })); // idempotent
  expect(await h.keyEvents()).toBe(before + 1);
  const { versions } = dataOf(await h.call<{ versions: KeyVersionInfo[] }>('list-key-versions', { keyId }));
  expect(versions.map((v) => [v.version, v.status])).toEqual([[1, 'Compromised'], [2, 'Enabled']]);

  expect((await encrypt(keyId, 'new')).keyVersion).toBe(2);
  const refused = await decrypt(old.ciphertextBlob);
  expect(refused).toMatchObject({ ok: false, error: { code: 'EKM_KEY_NOT_ACTIVE', message: expect.stringContaining('keys:DecryptCompromised') } });
  // (force: this harness has no rotation service to answer the re-wrap guard)
  for (const [op, body] of [['enable-key-version', {}], ['disable-key-version', { force: true }]] as const) {
    expect(await h.call(op, { keyId, version: 1, ...body })).toMatchObject({ ok: false, error: { code: 'EKM_KEY_NOT_ACTIVE', message: expect.stringContaining('compromised') } });
  }

  const moved = dataOf(await h.call<Blob & { sourceKeyVersion: number }>('re-encrypt', { ciphertextBlob: old.ciphertextBlob, sourceEncryptionContext: ctx, destinationEncryptionContext: ctx }));
  expect(moved).toMatchObject({ keyId, keyVersion: 2, sourceKeyVersion: 1 });
  const back = dataOf(await decrypt(moved.ciphertextBlob));
  expect([Buffer.from(back.plaintext, 'base64').toString(), back.keyVersion]).toEqual(['under v1', 2]);
});

it('a revoked key\'s data can be re-encrypted to another key (it used to be refused)', async () => {
  const { keyId } = dataOf(await h.call<KeyInfo>('create-key', { tenant: 'cmp' }));
  const old = await encrypt(keyId, 'save me');
  dataOf(await h.call('revoke-key', { keyId, reason: 'compromised host' }));
  expect((await decrypt(old.ciphertextBlob)).ok).toBe(false);
  const { keyId: rescue } = dataOf(await h.call<KeyInfo>('create-key', { tenant: 'cmp' }));
  const moved = dataOf(await h.call<Blob>('re-encrypt', { ciphertextBlob: old.ciphertextBlob, sourceEncryptionContext: ctx, destinationKeyId: rescue, destinationEncryptionContext: ctx }));
  expect(moved.keyId).toBe(rescue);
  expect(Buffer.from(dataOf(await decrypt(moved.ciphertextBlob)).plaintext, 'base64').toString()).toBe('save me');
  // The revoked key itself still cannot be a ReEncrypt destination: it never encrypts.
  expect(await h.call('re-encrypt', { ciphertextBlob: moved.ciphertextBlob, sourceEncryptionContext: ctx, destinationKeyId: keyId, destinationEncryptionContext: ctx }))
    .toMatchObject({ ok: false, error: { code: 'EKM_KEY_NOT_ACTIVE' } });
});
