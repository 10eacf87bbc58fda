/**
 * Pins the worked example of docs/envelope-format.md: the bytes there are what this SDK writes, and
 * openEnvelope opens them when EKM (here @ekm/crypto with the example KEK) unwraps the data key.
 */
import { createCipheriv } from 'node:crypto';
import { aesGcmEncrypt, canonicalEncryptionContext, decryptBlob, encodeBlob, encodeBlobHeader, KeyMaterial } from '@ekm/crypto';
import { CachingDataKeyProvider, type DataKeySource } from '../caching/caching-data-key-provider';
import { ContentType, encodeEnvelope, envelopeAadPrefix } from './envelope.format';
import { decryptVector } from './vector-envelope';

const KEK = Buffer.alloc(32, 0x11);
const KEY_ID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const DEK = Buffer.alloc(32, 0x22);
const BLOB_IV = Buffer.from('000102030405060708090a0b', 'hex');
const IV = Buffer.from('0c0d0e0f1011121314151617', 'hex');
const CTX = { tenant: 'acme', collection: 'docs', asset: 'doc-1' };
const VECTOR = Float32Array.from([1, -0.5]);

/** The doc's example, in hex (whitespace ignored). */
const DOC_EXAMPLE = `
4556 01 01 0059
454b4d0101 3f2504e04f8941d39a0c0305e82c3301 00000002 000102030405060708090a0b 00000020
31c19431598117d6369af1bde68dd504eb83224a3757700d8bc29d5ddf62410c f6ca950e849b4d6b9f079a69e4eb853b
0c0d0e0f1011121314151617
d4850c4cbfb010ed
0fb9b7df9e1148696194ff2d2bd05204
`;

function build() {
  const header = encodeBlobHeader(KEY_ID, 2, BLOB_IV, DEK.length);
  const sealed = aesGcmEncrypt(KeyMaterial.copyOf(KEK), DEK, Buffer.concat([header, canonicalEncryptionContext(CTX)]), BLOB_IV);
  const blob = encodeBlob({ keyId: KEY_ID, keyVersion: 2, ...sealed });
  const payload = Buffer.from(VECTOR.buffer);
  const c = createCipheriv('aes-256-gcm', DEK, IV, { authTagLength: 16 });
  c.setAAD(Buffer.concat([envelopeAadPrefix(ContentType.Vector), canonicalEncryptionContext(CTX)]));
  const ct = Buffer.concat([c.update(payload), c.final()]);
  return { blob, envelope: encodeEnvelope({ contentType: ContentType.Vector, wrappedKey: blob, iv: IV, ciphertext: ct, tag: c.getAuthTag() }), ct, tag: c.getAuthTag() };
}

describe('docs/envelope-format.md example', () => {
  it('encodes to the documented bytes', () => {
    const { envelope, blob, ct, tag } = build();
    expect(blob.length).toBe(89);
    expect(ct.toString('hex')).toBe('d4850c4cbfb010ed');
    expect(tag.toString('hex')).toBe('0fb9b7df9e1148696194ff2d2bd05204');
    expect(envelope.toString('hex')).toBe(DOC_EXAMPLE.replace(/\s+/g, ''));
  });

  it('opens with openEnvelope when EKM unwraps the data key', async () => {
    const source: DataKeySource = {
      generateDataKey: () => Promise.reject(new Error('not used')),
      decrypt: async (input) => ({ keyId: KEY_ID, keyVersion: 2, plaintext: decryptBlob(input.ciphertextBlob, KeyMaterial.copyOf(KEK), input.encryptionContext ?? {}) }),
    };
    const v = await decryptVector(new CachingDataKeyProvider(source), CTX, build().envelope);
    expect(Array.from(v)).toEqual([1, -0.5]);
  });
});
