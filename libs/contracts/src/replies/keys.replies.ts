/**
 * Reply bodies (the `data` of `{ok:true,data}`) of the keys service's subjects, as zod schemas. The
 * TypeScript wire types are inferred from them, so the service's handler return types and the SDK's
 * method types are one definition. Binary values are base64 strings on the wire (the SDK turns them
 * into Buffers). Nothing here carries key material except the data-plane plaintexts, which are the
 * caller's own data key or message.
 */
import { z } from 'zod';

export const KEY_SPECS = ['SYMMETRIC_DEFAULT', 'HMAC_256'] as const;
export const KEY_USAGES = ['ENCRYPT_DECRYPT', 'GENERATE_VERIFY_MAC'] as const;
export const KEY_ORIGINS = ['EKM', 'EXTERNAL'] as const;
export const KEY_STATUSES = ['PendingImport', 'Enabled', 'Disabled', 'PendingDeletion', 'Destroyed', 'Compromised'] as const;
export const KEY_VERSION_STATUSES = ['Enabled', 'Disabled', 'Destroyed', 'Compromised'] as const;
export const WRAPPING_ALGORITHMS = ['RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_256'] as const;
export const WRAPPING_KEY_SPECS = ['RSA_3072', 'RSA_4096'] as const;

const isoTime = z.string().min(1);
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const stringMap = z.record(z.string(), z.string()).readonly();

export const KeyVersionInfoReply = z.object({
  version: z.number().int().positive(),
  status: z.enum(KEY_VERSION_STATUSES),
  isPrimary: z.boolean(),
  /** One-way fingerprint of the material (safe to show; not the material). */
  fingerprint: z.string(),
  origin: z.enum(KEY_ORIGINS),
  createdAt: isoTime,
}).strict().readonly();

export const KeyRotationReply = z.discriminatedUnion('enabled', [
  z.object({ enabled: z.literal(false) }).strict().readonly(),
  z.object({ enabled: z.literal(true), periodDays: z.number().int().positive(), nextRotationAt: isoTime }).strict().readonly(),
]);

/** Everything about a key that is safe to show and log (Tink's KeyInfo). */
export const KeyInfoReply = z.object({
  keyId: z.string().min(1),
  tenant: z.string().min(1),
  status: z.enum(KEY_STATUSES),
  spec: z.enum(KEY_SPECS),
  usage: z.enum(KEY_USAGES),
  origin: z.enum(KEY_ORIGINS),
  description: z.string(),
  /** Version used for new encryptions; null while `PendingImport`. */
  primaryVersion: z.number().int().positive().nullable(),
  versions: z.array(KeyVersionInfoReply).readonly(),
  /** Alias names including the `alias/` prefix. */
  aliases: z.array(z.string()).readonly(),
  tags: stringMap,
  /** Purpose binding: entries every encryption context used with this key must contain, exactly. */
  requiredContext: stringMap,
  rotation: KeyRotationReply,
  lastRotatedAt: isoTime.nullable(),
  /** When a `PendingDeletion` key may be destroyed. */
  deletionDate: isoTime.nullable(),
  revokedAt: isoTime.nullable(),
  destroyedAt: isoTime.nullable(),
  createdAt: isoTime,
}).strict().readonly();

export const KeyPageReply = z.object({
  keys: z.array(KeyInfoReply).readonly(),
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: z.string().nullable(),
}).strict().readonly();

export const KeyVersionsReply = z.object({ keyId: z.string().min(1), versions: z.array(KeyVersionInfoReply).readonly() }).strict().readonly();

export const KeyRotationStatusReply = z.object({ keyId: z.string().min(1), rotation: KeyRotationReply, lastRotatedAt: isoTime.nullable() }).strict().readonly();

export const ImportParametersReply = z.object({
  keyId: z.string().min(1),
  /** DER SubjectPublicKeyInfo, base64. */
  publicKey: base64,
  /** Opaque, single-use, bound to the key and the wrapping algorithm; base64. */
  importToken: base64,
  wrappingAlgorithm: z.enum(WRAPPING_ALGORITHMS),
  wrappingKeySpec: z.enum(WRAPPING_KEY_SPECS),
  /** ISO-8601 expiry of the token; `parametersValidTo` is the same time under AWS's name. */
  expiresAt: isoTime,
  parametersValidTo: isoTime,
}).strict().readonly();

const versioned = { keyId: z.string().min(1), keyVersion: z.number().int().positive() };

/** `generate-data-key-without-plaintext`, `encrypt`: the wrapped blob (docs/ciphertext-format.md). */
export const CiphertextReply = z.object({ ...versioned, ciphertextBlob: base64 }).strict().readonly();
/** `generate-data-key`: the data key's plaintext (the caller's to zero) and its wrapped blob. */
export const DataKeyReply = z.object({ ...versioned, ciphertextBlob: base64, plaintext: base64 }).strict().readonly();
export const PlaintextReply = z.object({ ...versioned, plaintext: base64 }).strict().readonly();
export const ReEncryptReply = z.object({ ...versioned, ciphertextBlob: base64, sourceKeyId: z.string().min(1), sourceKeyVersion: z.number().int().positive() }).strict().readonly();
export const MacReply = z.object({ ...versioned, mac: base64, macAlgorithm: z.literal('HMAC_SHA_256') }).strict().readonly();
/** A wrong tag is `macValid: false` (and `keyVersion: null`), not an error. */
export const MacVerificationReply = z.object({
  keyId: z.string().min(1), keyVersion: z.number().int().positive().nullable(), macValid: z.boolean(), macAlgorithm: z.literal('HMAC_SHA_256'),
}).strict().readonly();

/** One batch item: its own result flattened beside `ok: true`, or its own error. */
const batchItem = <S extends z.ZodRawShape>(shape: S) => z.union([
  z.object({ ...shape, ok: z.literal(true) }).strict().readonly(),
  z.object({ ok: z.literal(false), error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }).strict() }).strict().readonly(),
]);
const batchOf = <S extends z.ZodRawShape>(shape: S) => z.object({ items: z.array(batchItem(shape)).readonly() }).strict().readonly();

/** `withPlaintext: false` items carry no plaintext. */
export const DataKeyBatchReply = batchOf({ ...versioned, ciphertextBlob: base64, plaintext: base64.optional() });
export const DecryptBatchReply = batchOf({ ...versioned, plaintext: base64 });
export const ReEncryptBatchReply = batchOf({ ...versioned, ciphertextBlob: base64, sourceKeyId: z.string().min(1), sourceKeyVersion: z.number().int().positive() });

/**
 * Where a tenant's root key (the key its KEK versions are wrapped under, inside the root-of-trust epoch)
 * lives: NONE before the tenant's first key, LOCAL (under EKM's root of trust), or EXTERNAL (only as the
 * ciphertext of an external AWS-KMS-compatible KMS). Never carries credentials.
 */
export const TenantRootReply = z.discriminatedUnion('kind', [
  z.object({ tenant: z.string().min(1), kind: z.literal('NONE') }).strict(),
  z.object({ tenant: z.string().min(1), kind: z.literal('LOCAL'), epoch: z.string().min(1) }).strict(),
  z.object({
    tenant: z.string().min(1), kind: z.literal('EXTERNAL'), epoch: z.string().min(1),
    external: z.object({ endpoint: z.string().min(1), region: z.string().min(1), keyId: z.string().min(1) }).strict(),
  }).strict(),
]).readonly();

export type TenantRootReply = z.infer<typeof TenantRootReply>;
export type KeyVersionInfoReply = z.infer<typeof KeyVersionInfoReply>;
/**
 * The seal state of a tenant (the kill switch). `secretRequired`: unsealing needs the tenant-held secret
 * given at seal time. Never carries the secret or its verifier.
 */
export const TenantSealStatusReply = z.object({
  tenant: z.string().min(1),
  sealed: z.boolean(),
  /** When the seal was committed (ISO-8601), while sealed. */
  sealedAt: isoTime.optional(),
  secretRequired: z.boolean(),
}).strict().readonly();

export type KeyRotationReply = z.infer<typeof KeyRotationReply>;
export type KeyInfoReply = z.infer<typeof KeyInfoReply>;
export type KeyPageReply = z.infer<typeof KeyPageReply>;
export type KeyVersionsReply = z.infer<typeof KeyVersionsReply>;
export type KeyRotationStatusReply = z.infer<typeof KeyRotationStatusReply>;
export type ImportParametersReply = z.infer<typeof ImportParametersReply>;
export type CiphertextReply = z.infer<typeof CiphertextReply>;
export type DataKeyReply = z.infer<typeof DataKeyReply>;
export type PlaintextReply = z.infer<typeof PlaintextReply>;
export type ReEncryptReply = z.infer<typeof ReEncryptReply>;
export type MacReply = z.infer<typeof MacReply>;
export type MacVerificationReply = z.infer<typeof MacVerificationReply>;
export type DataKeyBatchReply = z.infer<typeof DataKeyBatchReply>;
export type DecryptBatchReply = z.infer<typeof DecryptBatchReply>;
export type ReEncryptBatchReply = z.infer<typeof ReEncryptBatchReply>;
export type TenantSealStatusReply = z.infer<typeof TenantSealStatusReply>;
