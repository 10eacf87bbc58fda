import { constants, createCipheriv, publicEncrypt, randomBytes } from 'node:crypto';
import { ImportMaterialInvalidError } from '../errors';
import { KeyMaterial } from '../key-material';
import { generateImportWrappingKeyPair, unwrapImportedMaterial, type ImportWrappingKeyPair } from './import-crypto';

// node:crypto plays the customer's HSM: it only ever sees the public key.
function customerWrap(publicKeyB64: string, algorithm: 'RSAES_OAEP_SHA_256' | 'RSA_AES_KEY_WRAP_SHA_256', material: Buffer): Buffer {
  const pub = { key: Buffer.from(publicKeyB64, 'base64'), format: 'der' as const, type: 'spki' as const, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };
  if (algorithm === 'RSAES_OAEP_SHA_256') return publicEncrypt(pub, material);
  const ephemeral = randomBytes(32);
  const kwp = createCipheriv('id-aes256-wrap-pad', ephemeral, Buffer.from('A65959A6', 'hex'));
  return Buffer.concat([publicEncrypt(pub, ephemeral), kwp.update(material), kwp.final()]);
}

let pair3072: ImportWrappingKeyPair;
let pair4096: ImportWrappingKeyPair;
beforeAll(async () => {
  [pair3072, pair4096] = await Promise.all([generateImportWrappingKeyPair('RSA_3072'), generateImportWrappingKeyPair('RSA_4096')]);
});

describe.each(['RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_256'] as const)('%s', (algorithm) => {
  it.each([['RSA_3072'], ['RSA_4096']])('round trips 32-byte material with %s', (spec) => {
    const pair = spec === 'RSA_3072' ? pair3072 : pair4096;
    const material = randomBytes(32);
    const out = unwrapImportedMaterial({ algorithm, privateKey: pair.privateKey, encryptedMaterial: customerWrap(pair.publicKey, algorithm, material) });
    expect(out.use((b) => b.equals(material))).toBe(true);
  });

  it('refuses the wrong size, garbage, truncation and another wrapping key with ImportMaterialInvalidError', () => {
    const bad = (encryptedMaterial: Buffer, privateKey = pair3072.privateKey) => () => unwrapImportedMaterial({ algorithm, privateKey, encryptedMaterial });
    const good = customerWrap(pair3072.publicKey, algorithm, randomBytes(32));
    expect(bad(customerWrap(pair3072.publicKey, algorithm, randomBytes(16)))).toThrow(/must be 32 bytes, got 16/);
    expect(bad(randomBytes(good.length))).toThrow(ImportMaterialInvalidError);
    expect(bad(good.subarray(0, good.length - 8))).toThrow(ImportMaterialInvalidError);
    expect(bad(Buffer.alloc(0))).toThrow(ImportMaterialInvalidError);
    expect(bad(good, pair4096.privateKey)).toThrow(ImportMaterialInvalidError);
    const flipped = Buffer.from(good);
    flipped[flipped.length - 1] ^= 1;
    expect(bad(flipped)).toThrow(ImportMaterialInvalidError);
    expect(bad(good, KeyMaterial.random(64))).toThrow(/not an RSA PKCS#8 key/);
  });
});

it('wrapping key pairs: SPKI DER public key of the right size, PKCS#8 private key as KeyMaterial', () => {
  expect(pair3072.privateKey).toBeInstanceOf(KeyMaterial);
  expect(JSON.stringify(pair3072)).not.toContain(pair3072.privateKey.use((b) => b.toString('base64')).slice(0, 40));
  expect(Buffer.from(pair3072.publicKey, 'base64').length).toBeGreaterThan(384);
  expect(Buffer.from(pair4096.publicKey, 'base64').length).toBeGreaterThan(512);
  expect(() => unwrapImportedMaterial({ algorithm: 'NOPE' as never, privateKey: pair3072.privateKey, encryptedMaterial: Buffer.alloc(384) })).toThrow(ImportMaterialInvalidError);
});
