/**
 * Request bodies of the keys service (`ekm.v1.keys.*`), validated with zod through `parseRequest`:
 * messages name the field and the rule, never the value (it may be plaintext). Unknown fields are
 * refused. Binary values are base64 strings; keys are named by id or `alias/<name>`. Range rules the
 * domain owns (deletion window, rotation period, tag/alias syntax) are left to it, so they answer with
 * the domain's typed rejections. The SDK's input types are checked against these (libs/client).
 */
import { z } from 'zod';
import { aliasName, keyVersion, streamVersion, tenantId } from '../fields';
import { integerBetween } from '../validation';
import { KEY_ORIGINS, KEY_SPECS, KEY_STATUSES, KEY_USAGES, WRAPPING_ALGORITHMS, WRAPPING_KEY_SPECS } from '../replies/keys.replies';

/** Bytes of a generated data key (KMS `NumberOfBytes`). */
export const MIN_DATA_KEY_BYTES = 1;
export const MAX_DATA_KEY_BYTES = 1024;

const keyRef = z.string().min(1).max(300);
const stringMap = z.record(z.string().min(1).max(256), z.string().max(256));
// A wide range: the domain's own bounds (7-30, 1-2560) answer with its typed rejections.
const wholeDays = integerBetween(0, 100_000);

export const KeyRefRequest = z.strictObject({ keyId: keyRef });

export const CreateKeyRequest = z.strictObject({
  tenant: tenantId,
  spec: z.enum(KEY_SPECS).default('SYMMETRIC_DEFAULT'),
  usage: z.enum(KEY_USAGES).optional(),
  origin: z.enum(KEY_ORIGINS).default('EKM'),
  description: z.string().max(8192).optional(),
  tags: stringMap.optional(),
  requiredContext: stringMap.optional(),
});

/** `tag` as `k=v` (CLI form) or `{key, value}` (SDK form). */
const tagFilter = z.union([
  z.string().max(512).regex(/^[^=]+=.*$/, 'must look like key=value'),
  z.strictObject({ key: z.string().min(1).max(128), value: z.string().max(256) }),
]);

export const ListKeysRequest = z.strictObject({
  tenant: tenantId.optional(),
  status: z.enum(KEY_STATUSES).optional(),
  state: z.enum(KEY_STATUSES).optional(),
  tag: tagFilter.optional(),
  alias: aliasName.optional(),
  limit: z.number().int('must be an integer').min(1).max(100).default(50),
  cursor: z.string().min(1).max(512).optional(),
});

/** Alias with or without the `alias/` prefix; the domain also checks it (reserved prefixes). */
export const AliasRequest = z.strictObject({ keyId: keyRef, alias: aliasName });
export const TagKeyRequest = z.strictObject({ keyId: keyRef, tags: stringMap });
export const UpdateDescriptionRequest = z.strictObject({ keyId: keyRef, description: z.string().max(8192) });
export const UntagKeyRequest = z.strictObject({ keyId: keyRef, tagKeys: z.array(z.string().min(1).max(128)).min(1).max(50) });
export const EnableRotationRequest = z.strictObject({ keyId: keyRef, periodDays: wholeDays.optional() });
export const RevokeKeyRequest = z.strictObject({ keyId: keyRef, reason: z.string().min(1, 'is required').max(1024) });
/** `reason` SCHEDULED and `expectedVersion` are what the rotation scheduler sends; both optional. */
export const RotateKeyRequest = z.strictObject({ keyId: keyRef, reason: z.enum(['ON_DEMAND', 'SCHEDULED']).optional(), expectedVersion: streamVersion.optional() });
export const DestroyKeyRequest = z.strictObject({ keyId: keyRef, expectedVersion: streamVersion.optional() });
export const ScheduleDeletionRequest = z.strictObject({ keyId: keyRef, pendingWindowDays: wholeDays.optional() });

export const ImportParametersRequest = z.strictObject({
  keyId: keyRef,
  wrappingAlgorithm: z.enum(WRAPPING_ALGORITHMS).default('RSAES_OAEP_SHA_256'),
  wrappingKeySpec: z.enum(WRAPPING_KEY_SPECS).default('RSA_4096'),
});

const base64 = z.string().min(1).regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64');
export const ImportKeyMaterialRequest = z.strictObject({
  keyId: keyRef,
  importToken: base64.max(512),
  encryptedKeyMaterial: base64.max(4096),
  wrappingAlgorithm: z.enum(WRAPPING_ALGORITHMS).optional(),
});

// The version subjects (sent by operators and by the rotation scheduler).
export const VersionRequest = z.strictObject({ keyId: keyRef, version: keyVersion });
export const RetireVersionRequest = z.strictObject({ keyId: keyRef, version: keyVersion, force: z.boolean().default(false) });
export const CompromiseVersionRequest = z.strictObject({ keyId: keyRef, version: keyVersion, reason: z.string().max(512).default('') });
export const ExpireTokenRequest = z.strictObject({ keyId: keyRef, tokenId: z.string().min(1).max(256) });

// Data plane.
export const MAX_PLAINTEXT_BYTES = 4096;
export const MAX_MESSAGE_BYTES = 4096;
export const MAX_BATCH_ITEMS = 100;
/** Largest blob: header 41 + 65536 + tag 16, as base64. */
const MAX_BLOB_B64 = Math.ceil((41 + 65536 + 16) / 3) * 4;
/** Canonical (padded) base64. */
export const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const cryptoKeyRef = z.string().min(1, 'must not be empty').max(300, 'must have at most 300 characters');
const context = z.record(z.string(), z.string()).optional();

/** Base64 that decodes to `min..max` bytes. Decoding happens in the service (see `fromB64`). */
const b64Bytes = (min: number, max: number) =>
  z.string().max(Math.ceil(max / 3) * 4 + 4, `must have at most ${max} bytes`)
    .regex(BASE64_PATTERN, 'must be base64')
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

const dataKeyShape = {
  keyId: cryptoKeyRef,
  encryptionContext: context,
  keySpec: z.enum(['AES_256']).optional(),
  numberOfBytes: integerBetween(MIN_DATA_KEY_BYTES, MAX_DATA_KEY_BYTES).optional(),
};
const oneSize = (v: { keySpec?: string | undefined; numberOfBytes?: number | undefined }) => !(v.keySpec !== undefined && v.numberOfBytes !== undefined);
const oneSizeRule = { message: 'give keySpec or numberOfBytes, not both', path: ['numberOfBytes'] };

export const GenerateDataKeyRequest = z.strictObject(dataKeyShape).refine(oneSize, oneSizeRule);
export type GenerateDataKeyRequest = z.output<typeof GenerateDataKeyRequest>;

export const EncryptRequest = z.strictObject({ keyId: cryptoKeyRef, plaintext: b64Bytes(1, MAX_PLAINTEXT_BYTES), encryptionContext: context });
export type EncryptRequest = z.output<typeof EncryptRequest>;

export const DecryptRequest = z.strictObject({ ciphertextBlob: blob, keyId: cryptoKeyRef.optional(), encryptionContext: context });
export type DecryptRequest = z.output<typeof DecryptRequest>;

export const ReEncryptRequest = z.strictObject({
  ciphertextBlob: blob,
  sourceKeyId: cryptoKeyRef.optional(),
  sourceEncryptionContext: context,
  /** Defaults to the source key: re-encrypt under its current primary version. */
  destinationKeyId: cryptoKeyRef.optional(),
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
  keyId: cryptoKeyRef,
  message: b64Bytes(1, MAX_MESSAGE_BYTES),
  macAlgorithm: z.enum(['HMAC_SHA_256']).optional(),
  /** Checked against the key's purpose binding and given to the authorizer; not part of the MAC. */
  encryptionContext: context,
});
export type GenerateMacRequest = z.output<typeof GenerateMacRequest>;

export const VerifyMacRequest = z.strictObject({
  keyId: cryptoKeyRef,
  message: b64Bytes(1, MAX_MESSAGE_BYTES),
  mac: b64Bytes(1, 64),
  macAlgorithm: z.enum(['HMAC_SHA_256']).optional(),
  encryptionContext: context,
});
export type VerifyMacRequest = z.output<typeof VerifyMacRequest>;
