import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { InvalidCiphertextError } from '../errors';
import { KeyMaterial } from '../key-material';
import { decryptBlob, encryptBlob } from './blob-crypto';
import { BLOB_HEADER_LENGTH, encodeBlob, parseBlob } from './ciphertext-blob';

const uuidArb = fc.uuid({ version: 4 });
const blobArb = fc.record({
  keyId: uuidArb,
  keyVersion: fc.integer({ min: 1, max: 0x7fffffff }),
  iv: fc.uint8Array({ minLength: 12, maxLength: 12 }).map((a) => Buffer.from(a)),
  ciphertext: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
  tag: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a)),
});

function rejects(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (e) {
    if (!(e instanceof InvalidCiphertextError)) throw e;
    expect(e.message).toBe('ciphertext is invalid');
    return true;
  }
}

describe('blob format', () => {
  it('encode → parse round trips every field', () => {
    fc.assert(
      fc.property(blobArb, (fields) => {
        const blob = encodeBlob(fields);
        expect(blob).toHaveLength(BLOB_HEADER_LENGTH + fields.ciphertext.length + 16);
        const p = parseBlob(blob);
        expect(p).toMatchObject({ formatVersion: 1, algorithm: 'AES_256_GCM', keyId: fields.keyId, keyVersion: fields.keyVersion });
        expect(p.iv.equals(fields.iv) && p.ciphertext.equals(fields.ciphertext) && p.tag.equals(fields.tag)).toBe(true);
        expect(p.header.equals(blob.subarray(0, BLOB_HEADER_LENGTH))).toBe(true);
      }),
    );
  });

  it('parse rejects garbage, trailing bytes, unknown version/algorithm, version 0 and non-v4 key ids', () => {
    const good = encodeBlob({ keyId: randomUUID(), keyVersion: 1, iv: Buffer.alloc(12), ciphertext: Buffer.alloc(5), tag: Buffer.alloc(16) });
    const edit = (at: number, value: number) => {
      const b = Buffer.from(good);
      b[at] = value;
      return b;
    };
    expect(rejects(() => parseBlob(Buffer.concat([good, Buffer.from([0])])))).toBe(true);
    expect(rejects(() => parseBlob(edit(3, 2)))).toBe(true); // format version
    expect(rejects(() => parseBlob(edit(4, 2)))).toBe(true); // algorithm
    expect(rejects(() => parseBlob(edit(24, 0)))).toBe(true); // key version 0
    expect(rejects(() => parseBlob(edit(11, 0x14)))).toBe(true); // UUID version nibble 1
    expect(rejects(() => parseBlob(Buffer.alloc(0)))).toBe(true);
    expect(rejects(() => parseBlob('EKM' as unknown as Buffer))).toBe(true);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (junk) => rejects(() => parseBlob(Buffer.from(junk)))));
  });

  it('encode refuses bad input as a caller bug (RangeError)', () => {
    const base = { keyId: randomUUID(), keyVersion: 1, iv: Buffer.alloc(12), ciphertext: Buffer.alloc(1), tag: Buffer.alloc(16) };
    expect(() => encodeBlob({ ...base, keyId: 'not-a-uuid' })).toThrow(RangeError);
    expect(() => encodeBlob({ ...base, keyVersion: 0 })).toThrow(RangeError);
    expect(() => encodeBlob({ ...base, iv: Buffer.alloc(11) })).toThrow(RangeError);
    expect(() => encodeBlob({ ...base, tag: Buffer.alloc(4) })).toThrow(RangeError);
  });
});

describe('blob encryption', () => {
  const key = KeyMaterial.random(32);
  const keyId = randomUUID();
  const context = { tenant: 't1', collection: 'docs' };
  const samples = [Buffer.alloc(0), Buffer.from('a'), Buffer.alloc(32, 0xaa)].map((plaintext) => encryptBlob({ key, keyId, keyVersion: 3, plaintext, context }));

  it('decrypts with the same key and context (in any key order)', () => {
    expect(decryptBlob(samples[2], key, { collection: 'docs', tenant: 't1' }).equals(Buffer.alloc(32, 0xaa))).toBe(true);
    expect(parseBlob(samples[1])).toMatchObject({ keyId, keyVersion: 3 });
    expect(decryptBlob(parseBlob(samples[1]), key, context).toString()).toBe('a');
  });

  it('EVERY single-bit flip of every sample blob is InvalidCiphertextError', () => {
    for (const blob of samples) {
      for (let bit = 0; bit < blob.length * 8; bit++) {
        const v = Buffer.from(blob);
        v[bit >> 3] ^= 1 << (bit & 7);
        expect(rejects(() => decryptBlob(v, key, context))).toBe(true);
      }
    }
  });

  it('EVERY truncation (and extension) of every sample blob is InvalidCiphertextError', () => {
    for (const blob of samples) {
      for (let len = 0; len < blob.length; len++) expect(rejects(() => decryptBlob(blob.subarray(0, len), key, context))).toBe(true);
      expect(rejects(() => decryptBlob(Buffer.concat([blob, Buffer.alloc(1)]), key, context))).toBe(true);
    }
  });

  it('wrong context, missing context entry, extra entry and wrong key are InvalidCiphertextError', () => {
    const blob = samples[2];
    expect(rejects(() => decryptBlob(blob, key, { tenant: 't1', collection: 'other' }))).toBe(true);
    expect(rejects(() => decryptBlob(blob, key, { tenant: 't1' }))).toBe(true);
    expect(rejects(() => decryptBlob(blob, key, { ...context, extra: '' }))).toBe(true);
    expect(rejects(() => decryptBlob(blob, KeyMaterial.random(32), context))).toBe(true);
  });

  it('round trips random plaintexts and contexts', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 4 }), (pt, ctx) => {
        const blob = encryptBlob({ key, keyId, keyVersion: 1, plaintext: Buffer.from(pt), context: ctx });
        expect(decryptBlob(blob, key, ctx).equals(Buffer.from(pt))).toBe(true);
      }),
      { numRuns: 50 },
    );
  });
});
