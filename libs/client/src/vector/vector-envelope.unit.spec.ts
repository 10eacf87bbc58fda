import fc from 'fast-check';
import { EkmError } from '../ekm-error';
import { CachingDataKeyProvider } from '../caching/caching-data-key-provider';
import { FakeCryptoClient } from '../caching/fake-crypto-client.test-harness';
import { EnvelopeInvalidError, VectorInputInvalidError } from './envelope.errors';
import { parseEnvelope } from './envelope.format';
import { decryptMetadata, decryptVector, encryptMetadata, encryptVector, openEnvelope, type JsonValue } from './vector-envelope';
import { rewrapEnvelope, rewrapEnvelopes } from './rewrap-envelope';

const ctx = { tenant: 'acme', collection: 'docs', asset: 'doc-1' };

function setup() {
  const fake = new FakeCryptoClient();
  const keyId = fake.createKey();
  const provider = new CachingDataKeyProvider(fake);
  return { fake, keyId, provider };
}

const bytesOf = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

describe('vector envelope', () => {
  it('round trip: random embeddings and metadata (fast-check)', async () => {
    const { keyId, provider } = setup();
    await fc.assert(fc.asyncProperty(fc.float32Array({ maxLength: 64 }), fc.jsonValue(), fc.string({ minLength: 1, maxLength: 10 }), async (vec, meta, asset) => {
      const c = { ...ctx, asset };
      const sv = await encryptVector(provider, keyId, c, vec);
      const sm = await encryptMetadata(provider, keyId, c, meta as JsonValue);
      expect(bytesOf(await decryptVector(provider, c, sv.envelope)).equals(bytesOf(vec))).toBe(true);
      expect(await decryptMetadata(provider, c, sm.envelope)).toEqual(JSON.parse(JSON.stringify(meta)));
    }), { numRuns: 100 });
  });

  it('the vector and the metadata of one asset share one data key (one GenerateDataKey, one Decrypt)', async () => {
    const { fake, keyId, provider } = setup();
    const v = await encryptVector(provider, keyId, ctx, Float32Array.from([1, 2, 3]));
    const m = await encryptMetadata(provider, keyId, ctx, { title: 'hello' });
    expect(fake.calls.generateDataKey).toBe(1);
    expect(parseEnvelope(v.envelope).wrappedKey.equals(parseEnvelope(m.envelope).wrappedKey)).toBe(true);
    expect(Array.from(await decryptVector(provider, ctx, v.envelope))).toEqual([1, 2, 3]);
    expect(await decryptMetadata(provider, ctx, m.envelope)).toEqual({ title: 'hello' });
    expect(fake.calls.decrypt).toBe(1);
    expect(v).toMatchObject({ keyId, keyVersion: 1 });
  });

  it('every single bit flip, every truncation and an appended byte are rejected with EnvelopeInvalidError', async () => {
    const { keyId, provider } = setup();
    const { envelope } = await encryptVector(provider, keyId, ctx, Float32Array.from([0.5, -1.25, 3]));
    const problems = new Set<string>();
    const expectInvalid = async (bad: Buffer) => {
      const err = await openEnvelope(provider, ctx, bad).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(EnvelopeInvalidError);
      problems.add((err as EnvelopeInvalidError).problem);
    };
    for (let bit = 0; bit < envelope.length * 8; bit++) {
      const bad = Buffer.from(envelope);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      await expectInvalid(bad);
    }
    for (let len = 0; len < envelope.length; len++) await expectInvalid(envelope.subarray(0, len));
    await expectInvalid(Buffer.concat([envelope, Buffer.from([0])]));
    // The flips reached every layer: header checks, EKM's check of the wrapped key, and the payload tag.
    expect([...problems].sort()).toEqual(expect.arrayContaining(['AUTHENTICATION_FAILED', 'BAD_MAGIC', 'TRUNCATED', 'UNSUPPORTED_VERSION', 'WRAPPED_KEY_REJECTED']));
    expect(Array.from(await decryptVector(provider, ctx, envelope))).toEqual([0.5, -1.25, 3]);
  });

  it('property: a random bit flip of a random envelope is rejected', async () => {
    const { keyId, provider } = setup();
    await fc.assert(fc.asyncProperty(fc.float32Array({ maxLength: 16 }), fc.nat(), async (vec, at) => {
      const { envelope } = await encryptVector(provider, keyId, ctx, vec);
      const bad = Buffer.from(envelope);
      const bit = at % (bad.length * 8);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      await expect(openEnvelope(provider, ctx, bad)).rejects.toBeInstanceOf(EnvelopeInvalidError);
    }), { numRuns: 100 });
  });

  it('opens only for its own tenant/collection/asset and as its own content type', async () => {
    const { keyId, provider } = setup();
    const v = await encryptVector(provider, keyId, ctx, Float32Array.from([1]));
    for (const other of [{ ...ctx, asset: 'doc-2' }, { ...ctx, tenant: 'evil' }, { ...ctx, collection: 'x' }]) {
      await expect(openEnvelope(provider, other, v.envelope)).rejects.toMatchObject({ code: 'ENVELOPE_INVALID', problem: 'WRAPPED_KEY_REJECTED' });
    }
    await expect(decryptMetadata(provider, ctx, v.envelope)).rejects.toMatchObject({ problem: 'WRONG_CONTENT_TYPE' });
    // Relabelled as JSON (0x01 -> 0x02): the AAD binds the content type.
    const relabelled = Buffer.from(v.envelope);
    relabelled[3] = 0x02;
    await expect(openEnvelope(provider, ctx, relabelled)).rejects.toMatchObject({ problem: 'AUTHENTICATION_FAILED' });
  });

  it('EKM refusals other than invalid ciphertext stay EkmErrors (a destroyed key is EKM_KEY_NOT_ACTIVE)', async () => {
    const { fake, keyId, provider } = setup();
    const v = await encryptVector(provider, keyId, ctx, Float32Array.from([1]));
    fake.destroy(keyId);
    provider.invalidateKey(keyId);
    const err = await decryptVector(provider, ctx, v.envelope).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EkmError);
    expect(err).toMatchObject({ code: 'EKM_KEY_NOT_ACTIVE' });
  });

  it('bad inputs are VectorInputInvalidError and call nothing', async () => {
    const { fake, keyId, provider } = setup();
    await expect(encryptVector(provider, keyId, { ...ctx, asset: '' }, Float32Array.from([1]))).rejects.toBeInstanceOf(VectorInputInvalidError);
    await expect(encryptVector(provider, keyId, ctx, [1, 2] as unknown as Float32Array)).rejects.toMatchObject({ field: 'vector' });
    await expect(encryptMetadata(provider, keyId, ctx, undefined as unknown as JsonValue)).rejects.toMatchObject({ field: 'metadata' });
    await expect(encryptMetadata(provider, keyId, ctx, { n: 1n } as unknown as JsonValue)).rejects.toMatchObject({ field: 'metadata' });
    expect(fake.calls.generateDataKey).toBe(0);
  });
});

describe('rewrap', () => {
  it('after a rotation, re-wraps under the new primary version; payload unchanged, old blob gone, still opens', async () => {
    const { fake, keyId, provider } = setup();
    const v = await encryptVector(provider, keyId, ctx, Float32Array.from([4, 5]));
    expect(fake.rotate(keyId)).toBe(2);
    const r = await rewrapEnvelope(fake, { envelope: v.envelope, context: ctx });
    expect(r).toMatchObject({ keyId, keyVersion: 2, sourceKeyVersion: 1 });
    const before = parseEnvelope(v.envelope);
    const after = parseEnvelope(r.envelope);
    expect(after.wrappedKey.equals(before.wrappedKey)).toBe(false);
    expect(r.envelope.includes(before.wrappedKey)).toBe(false);
    expect(Buffer.concat([after.iv, after.ciphertext, after.tag]).equals(Buffer.concat([before.iv, before.ciphertext, before.tag]))).toBe(true);
    provider.clear();
    expect(Array.from(await decryptVector(provider, ctx, r.envelope))).toEqual([4, 5]);
  });

  it('batch: each envelope succeeds or fails on its own', async () => {
    const { fake, keyId, provider } = setup();
    const a = await encryptVector(provider, keyId, ctx, Float32Array.from([1]));
    const b = await encryptMetadata(provider, keyId, { ...ctx, asset: 'doc-2' }, { x: 1 });
    fake.rotate(keyId);
    const out = await rewrapEnvelopes(fake, [
      { envelope: a.envelope, context: ctx },
      { envelope: Buffer.from('garbage'), context: ctx },
      { envelope: b.envelope, context: ctx }, // wrong asset: EKM refuses the wrapped key
      { envelope: b.envelope, context: { ...ctx, asset: 'doc-2' } },
    ]);
    expect(out.map((r) => (r.ok ? r.value.keyVersion : (r.error as EnvelopeInvalidError).problem))).toEqual([2, 'BAD_MAGIC', 'WRAPPED_KEY_REJECTED', 2]);
  });
});
