/**
 * The customer side of BYOK: wraps key material with the public key from `getParametersForImport`, as
 * a customer's HSM would. It only ever sees the public key, so it can run anywhere the material is.
 */
import { constants, createCipheriv, createPublicKey, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import type { WrappingAlgorithm } from './keys.types';

/** RFC 5649 (AES key wrap with padding) alternative IV; OpenSSL's `id-aes256-wrap-pad` uses it. */
const KWP_IV = Buffer.from('A65959A6', 'hex');

/** The public key as given: DER SubjectPublicKeyInfo bytes, or PEM text. */
function publicKeyObject(publicKey: Buffer): KeyObject {
  const text = publicKey.toString('latin1');
  return text.includes('-----BEGIN PUBLIC KEY-----')
    ? createPublicKey({ key: text, format: 'pem' })
    : createPublicKey({ key: publicKey, format: 'der', type: 'spki' });
}

/**
 * Wraps `material` (32 bytes for SYMMETRIC_DEFAULT and HMAC_256) for `importKeyMaterial`.
 * - `RSAES_OAEP_SHA_256`: RSA-OAEP (SHA-256, MGF1-SHA-256) of the material.
 * - `RSA_AES_KEY_WRAP_SHA_256`: RSA-OAEP of a fresh AES-256 key, followed by the RFC 5649 key wrap of
 *   the material under it (AWS KMS's layout). The ephemeral key is zeroed before returning.
 * @param publicKey DER SPKI (as returned) or PEM.
 * @throws Error when the public key is not RSA.
 */
export function wrapKeyMaterial(publicKey: Buffer, algorithm: WrappingAlgorithm, material: Buffer): Buffer {
  const key = publicKeyObject(publicKey);
  if (key.asymmetricKeyType !== 'rsa') throw new Error(`the wrapping public key must be RSA, got ${key.asymmetricKeyType ?? 'unknown'}`);
  const oaep = (data: Buffer): Buffer => publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, data);
  switch (algorithm) {
    case 'RSAES_OAEP_SHA_256':
      return oaep(material);
    case 'RSA_AES_KEY_WRAP_SHA_256': {
      const ephemeral = randomBytes(32);
      try {
        const kwp = createCipheriv('id-aes256-wrap-pad', ephemeral, KWP_IV);
        return Buffer.concat([oaep(ephemeral), kwp.update(material), kwp.final()]);
      } finally {
        ephemeral.fill(0);
      }
    }
    default:
      throw new Error(`unsupported wrapping algorithm ${String(algorithm)}; use RSAES_OAEP_SHA_256 or RSA_AES_KEY_WRAP_SHA_256`);
  }
}
