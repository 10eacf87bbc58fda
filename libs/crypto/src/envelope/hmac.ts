import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidKeyLengthError } from '../errors';
import type { KeyMaterial } from '../key-material';

export const HMAC_SHA256_LENGTH = 32;

/** HMAC-SHA256 (the HMAC_256 key spec: 32-byte keys). */
export function hmacSha256(key: KeyMaterial, message: Buffer): Buffer {
  return key.use((k) => {
    if (k.length !== 32) throw new InvalidKeyLengthError(`HMAC_256 needs a 32-byte key, got ${k.length}`);
    return createHmac('sha256', k).update(message).digest();
  });
}

/** Constant-time verification; a MAC of the wrong length is simply false. */
export function verifyHmacSha256(key: KeyMaterial, message: Buffer, mac: Buffer): boolean {
  const expected = hmacSha256(key, message);
  return mac.length === expected.length && timingSafeEqual(expected, mac);
}
