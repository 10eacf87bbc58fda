/**
 * The SDK's caching provider and vector envelope against a real keys service (in-process, private
 * nats-server, real Postgres): cache limits seen from EKM's side (its usage records count the
 * GenerateDataKey and Decrypt calls that really happened), a round trip, EKM's purpose binding.
 */
import { startKeysHarness, type Harness } from '../../../../apps/keys/src/keys/adapters/nats/keys-admin.test-harness';
import { CachingDataKeyProvider } from '../caching/caching-data-key-provider';
import { Ekm } from '../ekm';
import { EkmClient } from '../ekm-client';
import { EnvelopeInvalidError } from './envelope.errors';
import { decryptMetadata, decryptVector, encryptMetadata, encryptVector } from './vector-envelope';
import { USAGE_RECORDS } from '../../../../test/support/usage-records';

describe('vector envelope + data-key cache against the keys service', () => {
  let h: Harness;
  let ekm: Ekm;
  beforeAll(async () => {
    h = await startKeysHarness();
    ekm = Ekm.from(EkmClient.fromConnection(h.nc, { timeoutMs: 10_000 }));
  });
  afterAll(async () => {
    await ekm?.close();
    await h?.close();
  });

  const usage = async (keyId: string, operation: string): Promise<number> => {
    const { rows } = await h.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${USAGE_RECORDS} WHERE data->>'keyId' = $1 AND data->>'operation' = $2`, [keyId, operation]);
    return Number(rows[0]!.n);
  };

  it('maxMessagesPerKey 3: 7 messages of one asset make exactly 3 GenerateDataKey calls in EKM; opening them makes 3 Decrypts', async () => {
    const { keyId } = await ekm.keys.createKey({ tenant: 'acme', requiredContext: { tenant: 'acme' } });
    const provider = new CachingDataKeyProvider(ekm.crypto, { encrypt: { maxMessagesPerKey: 3 } });
    const ctx = { tenant: 'acme', collection: 'docs', asset: 'a1' };
    const sealed = [];
    for (let i = 0; i < 7; i++) sealed.push(await encryptVector(provider, keyId, ctx, Float32Array.from([i, i + 0.5])));
    expect(await usage(keyId, 'GenerateDataKey')).toBe(3);
    for (let i = 0; i < 7; i++) expect(Array.from(await decryptVector(provider, ctx, sealed[i]!.envelope))).toEqual([i, i + 0.5]);
    expect(await usage(keyId, 'Decrypt')).toBe(3);
    const m = await encryptMetadata(provider, keyId, ctx, { title: 'x' });
    expect(await decryptMetadata(provider, ctx, m.envelope)).toEqual({ title: 'x' });
  });

  it('EKM enforces the context: another tenant cannot open the envelope (purpose binding), another asset is invalid ciphertext', async () => {
    const { keyId } = await ekm.keys.createKey({ tenant: 'acme', requiredContext: { tenant: 'acme' } });
    const provider = new CachingDataKeyProvider(ekm.crypto);
    const ctx = { tenant: 'acme', collection: 'docs', asset: 'a1' };
    const { envelope } = await encryptVector(provider, keyId, ctx, Float32Array.from([1]));
    await expect(decryptVector(provider, { ...ctx, tenant: 'evil' }, envelope)).rejects.toMatchObject({ code: 'EKM_CONTEXT_MISMATCH' });
    const err = await decryptVector(provider, { ...ctx, asset: 'a2' }, envelope).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvelopeInvalidError);
    expect(err).toMatchObject({ problem: 'WRAPPED_KEY_REJECTED' });
  });
});
