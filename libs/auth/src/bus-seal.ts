/**
 * Sealed bodies (docs/auth.md §4a): with a session, the SDK encrypts the whole request body, and the
 * service the whole reply, so no key material or caller plaintext (data keys, Decrypt/Encrypt
 * plaintext, import material, batch items, issued credentials) is readable on the bus, not even by the
 * broker. AES-256-GCM under
 *
 *   K_seal = HKDF-SHA256(ikm = sessionKey, salt = "", info = "ekm-seal-v1", 32)
 *   body   = iv (12 random bytes) ‖ ciphertext ‖ tag (16)
 *   AAD    = "ekm-seal-v1\n" + ("request" | "reply") + "\n" + subject + "\n" + requestId
 *
 * The AAD binds a body to its direction, request subject and `Ekm-Request-Id`: a sealed body moved to
 * another subject, another request or the other direction does not open. A responder without the
 * session key cannot produce a reply that opens, which is how the SDK rejects a rogue responder.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** Header marking a sealed body; its value is the scheme version. */
export const SEAL_HEADER = 'Ekm-Seal';
export const SEAL_VERSION = 'v1';

/** Which way a sealed body travels. */
export type SealDirection = 'request' | 'reply';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The body did not open: wrong key, altered bytes, or bound to another subject, request or direction. */
export class SealError extends Error {
  override readonly name = 'SealError';
}

/** The AEAD key of a session. Cache it per session; one HKDF per session, not per message. */
export function sealKeyOf(sessionKey: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', sessionKey, Buffer.alloc(0), 'ekm-seal-v1', 32));
}

/** The associated data of one sealed body (UTF-8). */
export function sealAad(direction: SealDirection, subject: string, requestId: string): string {
  return `ekm-seal-v1\n${direction}\n${subject}\n${requestId}`;
}

/** Seals `plain` (the JSON bytes of a request or reply). `iv` is for the worked example and tests only. */
export function sealBody(sealKey: Uint8Array, direction: SealDirection, subject: string, requestId: string, plain: Uint8Array, iv: Uint8Array = randomBytes(IV_BYTES)): Buffer {
  const c = createCipheriv('aes-256-gcm', sealKey, iv, { authTagLength: TAG_BYTES });
  c.setAAD(Buffer.from(sealAad(direction, subject, requestId), 'utf8'));
  return Buffer.concat([iv, c.update(plain), c.final(), c.getAuthTag()]);
}

/** Opens a sealed body. Releases nothing before the tag verified. @throws SealError */
export function openBody(sealKey: Uint8Array, direction: SealDirection, subject: string, requestId: string, sealed: Uint8Array): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new SealError('sealed body too short');
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  try {
    const d = createDecipheriv('aes-256-gcm', sealKey, buf.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    d.setAAD(Buffer.from(sealAad(direction, subject, requestId), 'utf8'));
    d.setAuthTag(buf.subarray(buf.length - TAG_BYTES));
    const out = d.update(buf.subarray(IV_BYTES, buf.length - TAG_BYTES));
    return Buffer.concat([out, d.final()]);
  } catch {
    throw new SealError('sealed body does not open under this session for this subject and request id');
  }
}
