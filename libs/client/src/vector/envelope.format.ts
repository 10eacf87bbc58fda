/**
 * Byte layout of the vector envelope, version 1 (docs/envelope-format.md). Pure: no crypto here.
 *
 *   0  2  magic "EV" (0x45 0x56)
 *   2  1  format version 0x01
 *   3  1  content type: 0x01 float32 little-endian vector, 0x02 UTF-8 JSON
 *   4  2  n = length of the wrapped data key (u16 BE, >= 1)
 *   6  n  wrapped data key: EKM's ciphertext blob of the DEK, opaque here
 *   6+n 12 IV; then the ciphertext (any length); then the 16-byte GCM tag.
 */
import { EnvelopeInvalidError } from './envelope.errors';

/** First two bytes of every envelope: "EV". */
export const ENVELOPE_MAGIC = Buffer.from('EV', 'latin1');
/** Format version written by this SDK (docs/envelope-format.md). */
export const ENVELOPE_VERSION = 0x01;
/** Content type byte: a float32 little-endian vector or UTF-8 JSON. */
export const ContentType = { Vector: 0x01, Json: 0x02 } as const;
/** One of {@link ContentType}. */
export type ContentType = (typeof ContentType)[keyof typeof ContentType];
/** AES-GCM IV length in bytes. */
export const ENVELOPE_IV_LENGTH = 12;
/** AES-GCM tag length in bytes. */
export const ENVELOPE_TAG_LENGTH = 16;
/** magic + version + content type + u16 length. */
export const ENVELOPE_PREFIX_LENGTH = 6;
/** Largest wrapped data key the u16 length field can hold. */
export const MAX_WRAPPED_KEY_LENGTH = 0xffff;

/** The fields of an envelope, before encoding or after parsing. */
export interface EnvelopeParts {
  readonly contentType: ContentType;
  readonly wrappedKey: Buffer;
  readonly iv: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

/** The fixed 4 bytes (magic, version, content type) authenticated with the payload. */
export function envelopeAadPrefix(contentType: ContentType): Buffer {
  return Buffer.from([ENVELOPE_MAGIC[0]!, ENVELOPE_MAGIC[1]!, ENVELOPE_VERSION, contentType]);
}

/** Serializes the parts in the version-1 byte layout above. */
export function encodeEnvelope(p: EnvelopeParts): Buffer {
  if (p.wrappedKey.length < 1 || p.wrappedKey.length > MAX_WRAPPED_KEY_LENGTH) throw new RangeError('wrapped key must be 1..65535 bytes');
  if (p.iv.length !== ENVELOPE_IV_LENGTH || p.tag.length !== ENVELOPE_TAG_LENGTH) throw new RangeError('IV must be 12 bytes and tag 16 bytes');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(p.wrappedKey.length);
  return Buffer.concat([envelopeAadPrefix(p.contentType), len, p.wrappedKey, p.iv, p.ciphertext, p.tag]);
}

/** Strict parse; every structural problem is an EnvelopeInvalidError. Slices share memory with `bytes`. */
export function parseEnvelope(bytes: Uint8Array): EnvelopeParts {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < ENVELOPE_PREFIX_LENGTH) throw new EnvelopeInvalidError('TRUNCATED');
  if (b[0] !== ENVELOPE_MAGIC[0] || b[1] !== ENVELOPE_MAGIC[1]) throw new EnvelopeInvalidError('BAD_MAGIC');
  if (b[2] !== ENVELOPE_VERSION) throw new EnvelopeInvalidError('UNSUPPORTED_VERSION');
  const contentType = b[3];
  if (contentType !== ContentType.Vector && contentType !== ContentType.Json) throw new EnvelopeInvalidError('UNKNOWN_CONTENT_TYPE');
  const n = b.readUInt16BE(4);
  if (n === 0) throw new EnvelopeInvalidError('BAD_WRAPPED_KEY_LENGTH');
  const ivAt = ENVELOPE_PREFIX_LENGTH + n;
  if (b.length < ivAt + ENVELOPE_IV_LENGTH + ENVELOPE_TAG_LENGTH) throw new EnvelopeInvalidError('TRUNCATED');
  const tagAt = b.length - ENVELOPE_TAG_LENGTH;
  return {
    contentType,
    wrappedKey: b.subarray(ENVELOPE_PREFIX_LENGTH, ivAt),
    iv: b.subarray(ivAt, ivAt + ENVELOPE_IV_LENGTH),
    ciphertext: b.subarray(ivAt + ENVELOPE_IV_LENGTH, tagAt),
    tag: b.subarray(tagAt),
  };
}
