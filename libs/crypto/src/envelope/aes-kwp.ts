import { createCipheriv, createDecipheriv } from 'node:crypto';
import { InvalidKeyLengthError, UnwrapFailedError } from '../errors';

// RFC 5649 alternative initial value; Node's id-aes256-wrap-pad takes its 4-byte prefix as the IV.
const KWP_AIV = Buffer.from('A65959A6', 'hex');

/** RFC 5649 AES-256 key wrap with padding (deterministic, integrity-protected, any length >= 1). */
export function kwpWrap(kek: Buffer, data: Buffer): Buffer {
  if (kek.length !== 32) throw new InvalidKeyLengthError(`AES-KWP needs a 32-byte key, got ${kek.length}`);
  if (data.length === 0) throw new InvalidKeyLengthError('AES-KWP cannot wrap 0 bytes');
  const cipher = createCipheriv('id-aes256-wrap-pad', kek, KWP_AIV);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/** Inverse of kwpWrap. Any failure (length, integrity check) is UnwrapFailedError with no detail. */
export function kwpUnwrap(kek: Buffer, wrapped: Buffer): Buffer {
  // RFC 5649: at least two 64-bit blocks, a multiple of 8 bytes.
  if (kek.length !== 32 || wrapped.length < 16 || wrapped.length % 8 !== 0) throw new UnwrapFailedError();
  let out: Buffer | undefined;
  try {
    const decipher = createDecipheriv('id-aes256-wrap-pad', kek, KWP_AIV);
    out = decipher.update(wrapped);
    const tail = decipher.final();
    if (tail.length === 0) return out;
    const joined = Buffer.concat([out, tail]);
    out.fill(0);
    tail.fill(0);
    return joined;
  } catch {
    out?.fill(0);
    throw new UnwrapFailedError();
  }
}
