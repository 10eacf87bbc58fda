/**
 * Hold your own key against a second EKM: stack 2's AWS-compatible API holds a key; stack 1 moves
 * tenant T's root there (set-tenant-root-external). T's GenerateDataKey/Decrypt round-trip in stack 1;
 * disabling the key in stack 2 makes stack 1 refuse T (EKM_EXTERNAL_KEY_UNAVAILABLE, as
 * KMSInvalidStateException on stack 1's AWS API) once the cache bound (EKM_XKS_CACHE_MS, 2 s here) has
 * passed, while another tenant of stack 1 keeps working; re-enabling the key restores T.
 */
import { CreateKeyCommand, DecryptCommand, DisableKeyCommand, EnableKeyCommand, GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { waitFor } from '../support/wait-for';
import { REGION, startKmsStack, type KmsStack } from './kms-api.support';
import { USAGE_RECORDS } from '../support/usage-records';

jest.setTimeout(240_000);

const ctx = { collection: 'docs' };
const roundTrip = async (kms: KMSClient, keyId: string): Promise<boolean> => {
  const dk = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: ctx }));
  const back = await kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob, EncryptionContext: ctx }));
  return Buffer.from(back.Plaintext!).equals(Buffer.from(dk.Plaintext!));
};
const refusal = async (kms: KMSClient, keyId: string): Promise<string | null> => {
  try {
    await roundTrip(kms, keyId);
    return null;
  } catch (e) {
    return (e as Error).name;
  }
};

describe('external tenant root in a second EKM (AWS-compatible API)', () => {
  let s1: KmsStack | undefined;
  let s2: KmsStack | undefined;
  afterAll(async () => {
    await s1?.stop();
    await s2?.stop();
  });

  it('round-trips through the external root, is cut within the cache bound when the key is disabled there, and comes back when it is re-enabled', async () => {
    const b = await startKmsStack();
    s2 = b;
    // Stack 1 may call stack 2's origin and nothing else (EKM_XKS_ALLOWED_ENDPOINTS).
    s1 = await startKmsStack({ keysEnv: { EKM_XKS_CACHE_MS: '2000', EKM_XKS_TIMEOUT_MS: '5000', EKM_XKS_ALLOWED_ENDPOINTS: b.endpoint } });
    // Stack 2: the customer's KMS and a key there.
    const holder = await s2.principal('hyok-holder');
    const kms2 = s2.kms(holder.key);
    const external = (await kms2.send(new CreateKeyCommand({ Description: 'root of tenant hyok in stack 1' }))).KeyMetadata!.KeyId!;
    const operator = await s1.operator();
    const setTo = (endpoint: string) => operator.call<{ kind: string; external: { keyId: string } }>('keys', 'set-tenant-root-external', {
      tenant: 'hyok', endpoint, region: REGION, keyId: external,
      credentials: { accessKeyId: holder.key.accessKeyId, secretAccessKey: holder.key.secretAccessKey }, caPem: b.caPem.toString(),
    });
    // An origin not in the list (the cloud metadata address, the same host on another port) is never called:
    // refused, and the tenant's root stays what it was.
    for (const elsewhere of ['https://169.254.169.254', `https://127.0.0.1:${Number(new URL(s2.endpoint).port) + 1}`, `${s2.endpoint}@evil.example`]) {
      await expect(setTo(elsewhere)).rejects.toMatchObject({ code: 'EKM_VALIDATION', message: expect.stringContaining('EKM_XKS_ALLOWED_ENDPOINTS') });
    }
    expect(await operator.call<{ kind: string }>('keys', 'describe-tenant-root', { tenant: 'hyok' })).not.toMatchObject({ kind: 'EXTERNAL' });
    // Stack 1: tenant hyok's root moves to stack 2.
    const set = await setTo(s2.endpoint);
    expect(set).toMatchObject({ kind: 'EXTERNAL', external: { keyId: external } });
    const t = s1.kms((await s1.principal('hyok')).key);
    const other = s1.kms((await s1.principal('hyok-neighbour')).key);
    const tKey = (await t.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const otherKey = (await other.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    expect(await roundTrip(t, tKey)).toBe(true);
    expect(await roundTrip(other, otherKey)).toBe(true);

    await kms2.send(new DisableKeyCommand({ KeyId: external }));
    // The bound is 2 s; the deadline is generous (scaled with load) but finite.
    expect(await waitFor(() => refusal(t, tKey), { timeoutMs: 15_000, what: 'stack 1 to refuse tenant hyok' })).toBe('KMSInvalidStateException');
    expect(await roundTrip(other, otherKey)).toBe(true);
    const { rows } = await s1.keysDb.query<{ data: { tenant?: string; errorCode?: string; reason?: string } }>(
      `SELECT data FROM ${USAGE_RECORDS} WHERE data->>'errorCode' = 'EKM_EXTERNAL_KEY_UNAVAILABLE'`);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0]!.data).toMatchObject({ outcome: 'FAILED', reason: expect.stringContaining('tenant hyok is unavailable (KEY_DISABLED)') });
    // The three refused sets are in the trail too (a request error: answered once, not retried by the SDK).
    const { rows: refusedSets } = await s1.keysDb.query(
      `SELECT 1 FROM ${USAGE_RECORDS} WHERE data->>'errorCode' = 'EKM_VALIDATION' AND data->>'reason' LIKE '%EKM_XKS_ALLOWED_ENDPOINTS%'`);
    expect(refusedSets).toHaveLength(3);
    const { rows: [leak] } = await s1.keysDb.query<{ n: string }>(`SELECT count(*) AS n FROM ekm_keys.events WHERE data::text LIKE $1`, [`%${holder.key.secretAccessKey}%`]);
    expect(Number(leak!.n)).toBe(0);

    await kms2.send(new EnableKeyCommand({ KeyId: external }));
    expect(await waitFor(async () => (await refusal(t, tKey)) === null, { timeoutMs: 15_000, what: 'tenant hyok to work again' })).toBe(true);
  });
});
