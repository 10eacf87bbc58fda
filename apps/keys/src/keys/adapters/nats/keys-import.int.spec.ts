/**
 * BYOK round trip with node:crypto playing the customer's HSM, for both wrapping algorithms, and the
 * token rules: single-use, bound to key and algorithm, expired tokens refused; nothing appended on refusal.
 */
import { constants, createCipheriv, createPublicKey, publicEncrypt, randomBytes, randomUUID } from 'node:crypto';
import type { Reply } from '@ekm/contracts';
import { KeyMaterial, keyFingerprint } from '@ekm/crypto';
import { asKeyId, type KeyInfo } from '../../domain';
import { KEY_COMMAND_HANDLER, type KeyCommandHandler } from '../../application/ports';
import { dataOf, startKeysHarness, type Harness } from './keys-admin.test-harness';

interface Params { publicKey: string; importToken: string; expiresAt: string; wrappingAlgorithm: string }

let h: Harness;
beforeAll(async () => {
  h = await startKeysHarness();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

/** The customer side: wraps `material` for the public key, as an HSM would. */
function customerWrap(publicKeyB64: string, algorithm: string, material: Buffer): string {
  const key = createPublicKey({ key: Buffer.from(publicKeyB64, 'base64'), format: 'der', type: 'spki' });
  const oaep = (data: Buffer): Buffer => publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, data);
  if (algorithm === 'RSAES_OAEP_SHA_256') return oaep(material).toString('base64');
  const ephemeral = randomBytes(32);
  const kwp = createCipheriv('id-aes256-wrap-pad', ephemeral, Buffer.from('A65959A6', 'hex'));
  return Buffer.concat([oaep(ephemeral), kwp.update(material), kwp.final()]).toString('base64');
}

const externalKey = async (): Promise<KeyInfo> => dataOf(await h.call<KeyInfo>('create-key', { tenant: 'byok', origin: 'EXTERNAL' }));

async function expectRefused(fn: () => Promise<Reply<unknown>>, code: string, message?: RegExp): Promise<void> {
  const before = await h.keyEvents();
  const r = await fn();
  expect(r.ok ? 'ok' : r.error.code).toBe(code);
  if (!r.ok && message) expect(r.error.message).toMatch(message);
  expect(await h.keyEvents()).toBe(before);
}

it.each([
  ['RSAES_OAEP_SHA_256', 'RSA_3072'],
  ['RSA_AES_KEY_WRAP_SHA_256', 'RSA_4096'],
])('imports material wrapped with %s (%s): PendingImport -> Enabled, fingerprint of the customer material', async (wrappingAlgorithm, wrappingKeySpec) => {
  const key = await externalKey();
  const params = dataOf(await h.call<Params>('get-parameters-for-import', { keyId: key.keyId, wrappingAlgorithm, wrappingKeySpec }));
  expect(Date.parse(params.expiresAt) - Date.now()).toBeGreaterThan(23.9 * 3_600_000);
  const material = randomBytes(32);
  const expected = keyFingerprint(KeyMaterial.copyOf(material));
  const body = { keyId: key.keyId, importToken: params.importToken, encryptedKeyMaterial: customerWrap(params.publicKey, wrappingAlgorithm, material) };
  const imported = dataOf(await h.call<KeyInfo>('import-key-material', body));
  expect(imported).toMatchObject({ status: 'Enabled', primaryVersion: 1, origin: 'EXTERNAL' });
  expect(imported.versions[0].fingerprint).toBe(expected);
  const { rows } = await h.db.query('SELECT wrapped FROM ekm_keys.key_material WHERE key_id = $1', [key.keyId]);
  expect(rows).toHaveLength(1);
  expect(Buffer.compare(rows[0].wrapped as Buffer, material)).not.toBe(0);
  // Single use: the same token again is refused, and nothing is appended.
  await expectRefused(() => h.call('import-key-material', body), 'EKM_IMPORT_TOKEN_INVALID', /already used/);
});

it('refuses tokens of another key, another algorithm, garbage material, EKM keys and expired tokens', async () => {
  const [a, b] = [await externalKey(), await externalKey()];
  const pa = dataOf(await h.call<Params>('get-parameters-for-import', { keyId: a.keyId, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_3072' }));
  const wrapped = customerWrap(pa.publicKey, 'RSAES_OAEP_SHA_256', randomBytes(32));
  await expectRefused(() => h.call('import-key-material', { keyId: b.keyId, importToken: pa.importToken, encryptedKeyMaterial: wrapped }), 'EKM_IMPORT_TOKEN_INVALID', /not valid for key/);
  await expectRefused(() => h.call('import-key-material', { keyId: a.keyId, importToken: pa.importToken, encryptedKeyMaterial: wrapped, wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256' }),
    'EKM_IMPORT_TOKEN_INVALID', /wrapping algorithm differs/);
  await expectRefused(() => h.call('import-key-material', { keyId: a.keyId, importToken: pa.importToken, encryptedKeyMaterial: randomBytes(384).toString('base64') }),
    'EKM_VALIDATION', /encryptedKeyMaterial/);
  await expectRefused(() => h.call('import-key-material', { keyId: a.keyId, importToken: pa.importToken, encryptedKeyMaterial: 'not base64!' }), 'EKM_VALIDATION', /must be base64/);
  await expectRefused(() => h.call('get-parameters-for-import', { keyId: a.keyId, wrappingKeySpec: 'RSA_2048' }), 'EKM_VALIDATION', /wrappingKeySpec: must be one of/);
  const ekm = dataOf(await h.call<KeyInfo>('create-key', { tenant: 'byok' }));
  await expectRefused(() => h.call('get-parameters-for-import', { keyId: ekm.keyId, wrappingKeySpec: 'RSA_3072' }), 'EKM_UNSUPPORTED', /origin EKM/);
  // Expiry: the rotation service sends ExpireImportToken when 24 h pass; after it the token is refused.
  const tokenId = Buffer.from(pa.importToken, 'base64').toString('utf8');
  const handler = h.svc.app.get<KeyCommandHandler>(KEY_COMMAND_HANDLER);
  const expired = await handler.handle({ type: 'ExpireImportToken', data: { keyId: asKeyId(a.keyId), tokenId }, meta: { actor: 'rotation', now: new Date().toISOString(), commandId: randomUUID() } });
  expect(expired.ok).toBe(true);
  await expectRefused(() => h.call('import-key-material', { keyId: a.keyId, importToken: pa.importToken, encryptedKeyMaterial: wrapped }), 'EKM_IMPORT_TOKEN_INVALID', /expired/);
  // The key is still waiting for material.
  expect(dataOf(await h.call<KeyInfo>('describe-key', { keyId: a.keyId })).status).toBe('PendingImport');
});
