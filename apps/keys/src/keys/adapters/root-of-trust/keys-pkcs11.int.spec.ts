/**
 * The keys service starts with EKM_ROOT_OF_TRUST=pkcs11 against a fresh SoftHSM2 token, and creates and
 * rotates a key whose versions are wrapped inside the token. createSoftHsmToken must run before the first
 * C_Initialize of this jest worker (it points SOFTHSM2_CONF at its temp dir).
 */
import { createSoftHsmToken } from '../../../../../../libs/crypto/src/pkcs11/testing/softhsm-token';
import type { KeyInfo } from '../../domain';
import { ROOT_OF_TRUST, type RootOfTrust } from '../../application/ports';
import { dataOf, startKeysHarness, type Harness } from '../nats/keys-admin.test-harness';

let h: Harness;
beforeAll(async () => {
  const token = createSoftHsmToken();
  h = await startKeysHarness({
    EKM_ROOT_OF_TRUST: 'pkcs11', EKM_PKCS11_LIBRARY: token.library, EKM_PKCS11_TOKEN_LABEL: token.tokenLabel,
    EKM_PKCS11_PIN: token.pin, EKM_PKCS11_KEY_LABEL: 'ekm-root-test',
  });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

it('creates and rotates a key under a PKCS#11 root', async () => {
  const ready = await fetch(`http://127.0.0.1:${h.svc.httpPort}/health/ready`);
  expect(ready.status).toBe(200);
  expect(h.svc.app.get<RootOfTrust>(ROOT_OF_TRUST).describe()).toMatchObject({ kind: 'pkcs11', keyLabel: 'ekm-root-test' });
  const key = dataOf(await h.call<KeyInfo>('create-key', { tenant: 'hsm' }));
  expect(key).toMatchObject({ status: 'Enabled', primaryVersion: 1 });
  const rotated = dataOf(await h.call<KeyInfo>('rotate-key', { keyId: key.keyId }));
  expect(rotated.primaryVersion).toBe(2);
  const { rows } = await h.db.query<{ version: number; wrapped: Buffer }>('SELECT version, wrapped FROM ekm_keys.key_material WHERE key_id = $1 ORDER BY version', [key.keyId]);
  expect(rows.map((r) => r.version)).toEqual([1, 2]);
  // Inside: the tenant root's AES-KWP wrap of the 32-byte KEK (40 bytes). The PKCS#11 root wraps that
  // framed (u32 length + 40 bytes, padded to 48): 56 bytes; the software root's would be 48.
  expect(rows.map((r) => r.wrapped.length)).toEqual([56, 56]);
});
