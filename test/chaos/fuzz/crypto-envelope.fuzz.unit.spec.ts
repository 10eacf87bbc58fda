import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import {
  EncryptionContextInvalidError, encryptBlob, decryptBlob, generateImportWrappingKeyPair, ImportMaterialInvalidError, InvalidCiphertextError, KeyMaterial,
  parseBlob, unwrapImportedMaterial, assertEncryptionContext, type ImportWrappingKeyPair,
} from '@ekm/crypto';
import { EnvelopeInvalidError, parseEnvelope } from '@ekm/client';
import { anyBody, fuzz, fuzzReport } from './fuzz-support';

afterAll(() => console.log(`crypto/envelope fuzzing\n${fuzzReport()}`));

describe('import material (BYOK)', () => {
  let pair: ImportWrappingKeyPair;
  beforeAll(async () => {
    pair = await generateImportWrappingKeyPair('RSA_3072');
  }, 30_000);
  afterAll(() => pair?.privateKey.dispose());

  it('random encrypted material, any algorithm and length: only ImportMaterialInvalidError, < 100 ms', () => {
    const arb = fc.record({
      algorithm: fc.constantFrom('RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_256', 'NOPE', '' as string),
      material: fc.oneof(fc.uint8Array({ maxLength: 1000 }), fc.uint8Array({ minLength: 384, maxLength: 384 }), fc.uint8Array({ minLength: 400, maxLength: 440 })),
      expectedLength: fc.option(fc.constantFrom(0, 1, 32, 64, -1, 1e9), { nil: undefined }),
    });
    fuzz('crypto.unwrapImportedMaterial', arb, ({ algorithm, material, expectedLength }) => unwrapImportedMaterial({
      algorithm: algorithm as 'RSAES_OAEP_SHA_256', privateKey: pair.privateKey, encryptedMaterial: Buffer.from(material), ...(expectedLength !== undefined ? { expectedLength } : {}),
    }), [ImportMaterialInvalidError], { numRuns: 300 });
  });

  it('a private key that is not one: only ImportMaterialInvalidError', () => {
    fuzz('crypto.unwrapImportedMaterial (bad private key)', fc.uint8Array({ minLength: 1, maxLength: 3000 }), (k) => unwrapImportedMaterial({
      algorithm: 'RSAES_OAEP_SHA_256', privateKey: KeyMaterial.adopt(Buffer.from(k)), encryptedMaterial: Buffer.alloc(384, 1),
    }), [ImportMaterialInvalidError], { numRuns: 200 });
  });
});

describe('ciphertext blobs', () => {
  const key = KeyMaterial.random(32);
  const real = encryptBlob({ key, keyId: randomUUID(), keyVersion: 1, plaintext: Buffer.from('hello'), context: { a: 'b' } });

  it('random bytes and mutations of a real blob: only InvalidCiphertextError from parse and decrypt', () => {
    const mutated = fc.tuple(fc.nat(real.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => { const b = Buffer.from(real); b[i] ^= x; return b; });
    const truncated = fc.nat(real.length).map((n) => real.subarray(0, n));
    const arb = fc.oneof(fc.uint8Array({ maxLength: 2000 }).map((u) => Buffer.from(u)), mutated, truncated, fc.constant(Buffer.concat([real, Buffer.alloc(1)])));
    fuzz('crypto.parseBlob + decryptBlob', arb, (b) => decryptBlob(parseBlob(b), key, { a: 'b' }), [InvalidCiphertextError], { numRuns: 2000 });
  });

  it('hostile encryption contexts: only EncryptionContextInvalidError', () => {
    fuzz('crypto.assertEncryptionContext', anyBody, (c) => assertEncryptionContext(c), [EncryptionContextInvalidError], { numRuns: 1000 });
  });
});

describe('vector envelopes (client)', () => {
  it('random bytes and plausible prefixes: only EnvelopeInvalidError', () => {
    const prefixed = fc.tuple(fc.constantFrom(0x01, 0x02, 0x03, 0x00), fc.uint8Array({ maxLength: 300 })).map(([ct, rest]) => Uint8Array.from([0x45, 0x56, 0x01, ct, ...rest]));
    const arb = fc.oneof(fc.uint8Array({ maxLength: 3000 }), prefixed, fc.constant(new Uint8Array(0)), fc.constant(Uint8Array.from([0x45, 0x56, 0x01, 0x01, 0xff, 0xff])));
    fuzz('client.parseEnvelope', arb, parseEnvelope, [EnvelopeInvalidError], { numRuns: 3000 });
  });
});
