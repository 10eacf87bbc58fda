import { MAX_KEY_VERSION } from '@ekm/contracts';
import { InvalidCiphertextError } from '../errors';
import { GCM_IV_LENGTH, GCM_TAG_LENGTH } from '../envelope/aes-gcm';

/**
 * EKM ciphertext blob, format version 1 (documented in docs/ciphertext-format.md):
 *
 * | offset | size | field |
 * |---|---|---|
 * | 0  | 3  | magic "EKM" (45 4B 4D) |
 * | 3  | 1  | format version (0x01) |
 * | 4  | 1  | algorithm (0x01 = AES-256-GCM) |
 * | 5  | 16 | key id (UUID v4, binary) |
 * | 21 | 4  | key version (u32 BE, >= 1) |
 * | 25 | 12 | IV |
 * | 37 | 4  | ciphertext length n (u32 BE, <= 65536) |
 * | 41 | n  | ciphertext |
 * | 41+n | 16 | GCM tag |
 *
 * AAD = bytes 0..40 (the whole header) || canonicalEncryptionContext(context).
 */
export const BLOB_MAGIC = Buffer.from('EKM', 'ascii');
export const BLOB_FORMAT_VERSION = 1;
export const BlobAlgorithm = { AES_256_GCM: 0x01 } as const;
export type BlobAlgorithmName = keyof typeof BlobAlgorithm;
export const BLOB_HEADER_LENGTH = 41;
export const MAX_BLOB_CIPHERTEXT_LENGTH = 65536;
export const MIN_BLOB_LENGTH = BLOB_HEADER_LENGTH + GCM_TAG_LENGTH;

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export type BlobFields = { keyId: string; keyVersion: number; iv: Buffer; ciphertext: Buffer; tag: Buffer };
export type ParsedBlob = BlobFields & {
  formatVersion: typeof BLOB_FORMAT_VERSION;
  algorithm: BlobAlgorithmName;
  /** The raw header bytes (the first half of the AAD). */
  header: Buffer;
};

/** Header bytes for a blob whose ciphertext will be `ciphertextLength` bytes. Throws RangeError on bad input (a caller bug). */
export function encodeBlobHeader(keyId: string, keyVersion: number, iv: Buffer, ciphertextLength: number): Buffer {
  if (!UUID_V4.test(keyId)) throw new RangeError('blob key id must be a lowercase UUID v4 string');
  if (!Number.isInteger(keyVersion) || keyVersion < 1 || keyVersion > MAX_KEY_VERSION) throw new RangeError(`blob key version must be 1..${MAX_KEY_VERSION}`);
  if (iv.length !== GCM_IV_LENGTH) throw new RangeError(`blob IV must be ${GCM_IV_LENGTH} bytes`);
  if (!Number.isInteger(ciphertextLength) || ciphertextLength < 0 || ciphertextLength > MAX_BLOB_CIPHERTEXT_LENGTH) {
    throw new RangeError(`blob ciphertext must be 0-${MAX_BLOB_CIPHERTEXT_LENGTH} bytes`);
  }
  const header = Buffer.alloc(BLOB_HEADER_LENGTH);
  BLOB_MAGIC.copy(header, 0);
  header[3] = BLOB_FORMAT_VERSION;
  header[4] = BlobAlgorithm.AES_256_GCM;
  Buffer.from(keyId.replaceAll('-', ''), 'hex').copy(header, 5);
  header.writeUInt32BE(keyVersion, 21);
  iv.copy(header, 25);
  header.writeUInt32BE(ciphertextLength, 37);
  return header;
}

export function encodeBlob(fields: BlobFields): Buffer {
  if (fields.tag.length !== GCM_TAG_LENGTH) throw new RangeError(`blob tag must be ${GCM_TAG_LENGTH} bytes`);
  const header = encodeBlobHeader(fields.keyId, fields.keyVersion, fields.iv, fields.ciphertext.length);
  return Buffer.concat([header, fields.ciphertext, fields.tag]);
}

/** Strict parser: exact lengths, known version and algorithm, key version 1..2^31-1, UUID v4 key id, no trailing bytes. Any failure: InvalidCiphertextError. */
export function parseBlob(blob: Buffer): ParsedBlob {
  if (!Buffer.isBuffer(blob) || blob.length < MIN_BLOB_LENGTH) throw new InvalidCiphertextError();
  if (!blob.subarray(0, 3).equals(BLOB_MAGIC) || blob[3] !== BLOB_FORMAT_VERSION || blob[4] !== BlobAlgorithm.AES_256_GCM) {
    throw new InvalidCiphertextError();
  }
  const keyVersion = blob.readUInt32BE(21);
  const n = blob.readUInt32BE(37);
  // The field is a u32 but versions are Postgres `integer` everywhere: a larger one names no version
  // and must be refused here, before a usage record (or the trail) ever sees it.
  if (keyVersion < 1 || keyVersion > MAX_KEY_VERSION || n > MAX_BLOB_CIPHERTEXT_LENGTH || blob.length !== BLOB_HEADER_LENGTH + n + GCM_TAG_LENGTH) {
    throw new InvalidCiphertextError();
  }
  const keyId = uuidFromBytes(blob.subarray(5, 21));
  if (!UUID_V4.test(keyId)) throw new InvalidCiphertextError();
  // Copies, so a caller mutating the input cannot change what was checked.
  const copy = Buffer.from(blob);
  return {
    formatVersion: BLOB_FORMAT_VERSION,
    algorithm: 'AES_256_GCM',
    keyId,
    keyVersion,
    header: copy.subarray(0, BLOB_HEADER_LENGTH),
    iv: copy.subarray(25, 37),
    ciphertext: copy.subarray(BLOB_HEADER_LENGTH, BLOB_HEADER_LENGTH + n),
    tag: copy.subarray(BLOB_HEADER_LENGTH + n),
  };
}

function uuidFromBytes(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
