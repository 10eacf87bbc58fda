/**
 * Request bodies of the data-plane subjects (zod, strict: unknown fields are refused). Binary values
 * are base64 strings; keys are named by id or `alias/<name>`; encryptionContext is a string map.
 * Messages never echo values (they may be plaintext): `plaintext: must have at most 4096 bytes`.
 */
import { z } from 'zod';
import { MAX_DATA_KEY_BYTES, MIN_DATA_KEY_BYTES } from '@ekm/crypto';
import { integerBetween } from '@ekm/contracts';

export const MAX_PLAINTEXT_BYTES = 4096;
export const MAX_MESSAGE_BYTES = 4096;
export const MAX_BATCH_ITEMS = 100;
/** Largest blob: header 41 + 65536 + tag 16, as base64. */
const MAX_BLOB_B64 = Math.ceil((41 + 65536 + 16) / 3) * 4;
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const keyRef = z.string().min(1, 'must not be empty').max(300, 'must have at most 300 characters');
const context = z.record(z.string(), z.string()).optional();

/** Base64 that decodes to `min..max` bytes. Decoding happens in the service (see `fromB64`). */
const b64Bytes = (min: number, max: number) =>
  z.string().max(Math.ceil(max / 3) * 4 + 4, `must have at most ${max} bytes`)
    .regex(B64, 'must be base64')
    .refine((s) => {
      const n = b64Length(s);
      return n >= min && n <= max;
    }, min > 0 ? `must have ${min}-${max} bytes` : `must have at most ${max} bytes`);

/** Blobs are only length-bounded here: any other problem is EKM_INVALID_CIPHERTEXT, not a validation error. */
const blob = z.string().min(1, 'must not be empty').max(MAX_BLOB_B64, 'is too long');

export function b64Length(s: string): number {
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  return (s.length / 4) * 3 - pad;
}

/** Strict base64 → bytes, or null (for blobs, mapped to INVALID_CIPHERTEXT). */
export function fromB64(s: string): Buffer | null {
  if (s.length % 4 !== 0 || !B64.test(s)) return null;
  return Buffer.from(s, 'base64');
}

const dataKeyShape = {
  keyId: keyRef,
  encryptionContext: context,
  keySpec: z.enum(['AES_256']).optional(),
  numberOfBytes: integerBetween(MIN_DATA_KEY_BYTES, MAX_DATA_KEY_BYTES).optional(),
};
const oneSize = (v: { keySpec?: string | undefined; numberOfBytes?: number | undefined }) => !(v.keySpec !== undefined && v.numberOfBytes !== undefined);
const oneSizeRule = { message: 'give keySpec or numberOfBytes, not both', path: ['numberOfBytes'] };

export const GenerateDataKeyRequest = z.strictObject(dataKeyShape).refine(oneSize, oneSizeRule);
export type GenerateDataKeyRequest = z.output<typeof GenerateDataKeyRequest>;

export const EncryptRequest = z.strictObject({ keyId: keyRef, plaintext: b64Bytes(1, MAX_PLAINTEXT_BYTES), encryptionContext: context });
export type EncryptRequest = z.output<typeof EncryptRequest>;

export const DecryptRequest = z.strictObject({ ciphertextBlob: blob, keyId: keyRef.optional(), encryptionContext: context });
export type DecryptRequest = z.output<typeof DecryptRequest>;

export const ReEncryptRequest = z.strictObject({
  ciphertextBlob: blob,
  sourceKeyId: keyRef.optional(),
  sourceEncryptionContext: context,
  /** Defaults to the source key: re-encrypt under its current primary version. */
  destinationKeyId: keyRef.optional(),
  destinationEncryptionContext: context,
});
export type ReEncryptRequest = z.output<typeof ReEncryptRequest>;

const batch = <T extends z.ZodType>(item: T) =>
  z.strictObject({ items: z.array(item).min(1, 'must have at least 1 item').max(MAX_BATCH_ITEMS, `must have at most ${MAX_BATCH_ITEMS} items`) });

export const GenerateDataKeyBatchRequest = z.strictObject({
  ...{ withPlaintext: z.boolean().optional() },
  items: z.array(z.strictObject(dataKeyShape).refine(oneSize, oneSizeRule)).min(1, 'must have at least 1 item').max(MAX_BATCH_ITEMS, `must have at most ${MAX_BATCH_ITEMS} items`),
});
export const DecryptBatchRequest = batch(DecryptRequest);
export const ReEncryptBatchRequest = batch(ReEncryptRequest);

export const GenerateMacRequest = z.strictObject({
  keyId: keyRef,
  message: b64Bytes(1, MAX_MESSAGE_BYTES),
  macAlgorithm: z.enum(['HMAC_SHA_256']).optional(),
  /** Checked against the key's purpose binding and given to the authorizer; not part of the MAC. */
  encryptionContext: context,
});
export type GenerateMacRequest = z.output<typeof GenerateMacRequest>;

export const VerifyMacRequest = z.strictObject({
  keyId: keyRef,
  message: b64Bytes(1, MAX_MESSAGE_BYTES),
  mac: b64Bytes(1, 64),
  macAlgorithm: z.enum(['HMAC_SHA_256']).optional(),
  encryptionContext: context,
});
export type VerifyMacRequest = z.output<typeof VerifyMacRequest>;
