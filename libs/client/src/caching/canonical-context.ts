/**
 * Canonical bytes of an encryption context, the same encoding EKM binds as AAD (docs/ciphertext-format.md):
 * `u32 count || for each entry sorted by UTF-8 key bytes: u32 len(key) || key || u32 len(value) || value`.
 * The SDK has its own copy so it does not pull @ekm/crypto (and its native PKCS#11 module) into
 * callers; a unit test pins it to @ekm/crypto's `canonicalEncryptionContext`.
 */
import type { StringMap } from '../keys.types';

/** Canonical encoding of `context` (undefined = the empty context). Throws TypeError for a non-string value. */
export function canonicalContext(context: StringMap | undefined): Buffer {
  const entries = Object.entries(context ?? {}).map(([k, v]) => {
    if (typeof v !== 'string') throw new TypeError(`encryption context value for "${k.slice(0, 64)}" must be a string`);
    return [Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8')] as const;
  });
  entries.sort((a, b) => Buffer.compare(a[0], b[0]));
  let size = 4;
  for (const [k, v] of entries) size += 8 + k.length + v.length;
  const out = Buffer.alloc(size);
  let at = out.writeUInt32BE(entries.length, 0);
  for (const [k, v] of entries) {
    at = out.writeUInt32BE(k.length, at);
    at += k.copy(out, at);
    at = out.writeUInt32BE(v.length, at);
    at += v.copy(out, at);
  }
  return out;
}
