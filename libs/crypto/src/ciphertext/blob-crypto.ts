import { randomBytes } from 'node:crypto';
import { aesGcmDecrypt, aesGcmEncrypt, GCM_IV_LENGTH } from '../envelope/aes-gcm';
import { canonicalEncryptionContext, type EncryptionContext } from '../envelope/encryption-context';
import { InvalidCiphertextError } from '../errors';
import type { KeyMaterial } from '../key-material';
import { encodeBlob, encodeBlobHeader, parseBlob, type ParsedBlob } from './ciphertext-blob';

export type EncryptBlobInput = {
  /** The 32-byte KEK version (or data key) that encrypts. */
  key: KeyMaterial;
  keyId: string;
  keyVersion: number;
  plaintext: Buffer;
  context: EncryptionContext;
};

/**
 * Encrypts into a self-describing blob; the header and canonical context are authenticated.
 * Throws EncryptionContextInvalidError for a bad context, RangeError for a bad key id / version.
 */
export function encryptBlob({ key, keyId, keyVersion, plaintext, context }: EncryptBlobInput): Buffer {
  const ctx = canonicalEncryptionContext(context);
  const iv = randomBytes(GCM_IV_LENGTH);
  const header = encodeBlobHeader(keyId, keyVersion, iv, plaintext.length);
  const sealed = aesGcmEncrypt(key, plaintext, Buffer.concat([header, ctx]), iv);
  return encodeBlob({ keyId, keyVersion, ...sealed });
}

/**
 * Decrypts a blob (raw, or already parsed to find its key id and version) with `key` under
 * `context`. A malformed context is EncryptionContextInvalidError (a request error); everything
 * else — parse, wrong key, wrong context, tampering — is InvalidCiphertextError.
 */
export function decryptBlob(blob: Buffer | ParsedBlob, key: KeyMaterial, context: EncryptionContext): Buffer {
  const ctx = canonicalEncryptionContext(context);
  const parsed = Buffer.isBuffer(blob) ? parseBlob(blob) : blob;
  if (parsed.algorithm !== 'AES_256_GCM') throw new InvalidCiphertextError();
  return aesGcmDecrypt(key, parsed, Buffer.concat([parsed.header, ctx]));
}
