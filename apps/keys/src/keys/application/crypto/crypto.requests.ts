/** Service-side decoding of the data plane's base64 fields (the request schemas are in @ekm/contracts). */
import { BASE64_PATTERN } from '@ekm/contracts';

/** Strict base64 → bytes, or null (for blobs, mapped to INVALID_CIPHERTEXT). */
export function fromB64(s: string): Buffer | null {
  if (s.length % 4 !== 0 || !BASE64_PATTERN.test(s)) return null;
  return Buffer.from(s, 'base64');
}
