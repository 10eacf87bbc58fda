import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { InvalidCiphertextError, InvalidKeyLengthError } from '../errors';
import type { KeyMaterial } from '../key-material';

export const GCM_IV_LENGTH = 12;
export const GCM_TAG_LENGTH = 16;

export type GcmSealed = { iv: Buffer; ciphertext: Buffer; tag: Buffer };

/**
 * AES-256-GCM with a fresh 12-byte random IV. Random IVs bound a key to 2^32 encryptions
 * (NIST SP 800-38D); the key service counts them per version (ARCHITECTURE §4).
 */
export function aesGcmEncrypt(key: KeyMaterial, plaintext: Buffer, aad: Buffer, iv: Buffer = randomBytes(GCM_IV_LENGTH)): GcmSealed {
  // `iv` is a parameter only so the blob encoder can put it in the AAD'd header first; never reuse one.
  if (iv.length !== GCM_IV_LENGTH) throw new RangeError(`AES-GCM IV must be ${GCM_IV_LENGTH} bytes`);
  return key.use((k) => {
    if (k.length !== 32) throw new InvalidKeyLengthError(`AES-256-GCM needs a 32-byte key, got ${k.length}`);
    const cipher = createCipheriv('aes-256-gcm', k, iv, { authTagLength: GCM_TAG_LENGTH });
    cipher.setAAD(aad);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { iv, ciphertext, tag: cipher.getAuthTag() };
  });
}

/**
 * Decrypts and authenticates. `authTagLength: 16` is explicit because Node otherwise accepts a
 * 4-byte tag; no plaintext leaves before final() has verified the tag (the update() output is
 * zeroed on failure). Every failure, including a wrong-length key, is InvalidCiphertextError.
 */
export function aesGcmDecrypt(key: KeyMaterial, sealed: GcmSealed, aad: Buffer): Buffer {
  const { iv, ciphertext, tag } = sealed;
  if (iv.length !== GCM_IV_LENGTH || tag.length !== GCM_TAG_LENGTH) throw new InvalidCiphertextError();
  return key.use((k) => {
    if (k.length !== 32) throw new InvalidCiphertextError();
    let plaintext: Buffer | undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', k, iv, { authTagLength: GCM_TAG_LENGTH });
      decipher.setAAD(aad);
      decipher.setAuthTag(tag);
      plaintext = decipher.update(ciphertext);
      decipher.final(); // GCM emits nothing at final(); it only verifies the tag
      return plaintext;
    } catch {
      plaintext?.fill(0);
      throw new InvalidCiphertextError();
    }
  });
}
