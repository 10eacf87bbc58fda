import type { EventMeta } from '@ekm/event-store';

/** Nominal typing for ids: a `KeyId` is not interchangeable with any other string. */
export type Brand<T, B extends string> = T & { readonly __brand: B };
export type KeyId = Brand<string, 'KeyId'>;
export const asKeyId = (id: string): KeyId => id as KeyId;

// `as const` tables double as runtime validation lists and fast-check generators.
export const KEY_SPECS = ['SYMMETRIC_DEFAULT', 'HMAC_256'] as const;
export type KeySpec = (typeof KEY_SPECS)[number];

export const KEY_USAGES = ['ENCRYPT_DECRYPT', 'GENERATE_VERIFY_MAC'] as const;
export type KeyUsage = (typeof KEY_USAGES)[number];

/** The one usage each spec supports (AES-256-GCM encrypts; HMAC-SHA-256 MACs). */
export const USAGE_OF_SPEC: Readonly<Record<KeySpec, KeyUsage>> = {
  SYMMETRIC_DEFAULT: 'ENCRYPT_DECRYPT',
  HMAC_256: 'GENERATE_VERIFY_MAC',
};

export const KEY_ORIGINS = ['EKM', 'EXTERNAL'] as const;
export type KeyOrigin = (typeof KEY_ORIGINS)[number];

export const KEY_STATUSES = ['PendingImport', 'Enabled', 'Disabled', 'PendingDeletion', 'Destroyed', 'Compromised'] as const;
export type KeyStatus = (typeof KEY_STATUSES)[number];

/** `Compromised`: never encrypts, decrypts only under an explicit permission, never returns to Enabled. */
export const VERSION_STATUSES = ['Enabled', 'Disabled', 'Destroyed', 'Compromised'] as const;
export type VersionStatus = (typeof VERSION_STATUSES)[number];

export const ROTATION_REASONS = ['ON_DEMAND', 'SCHEDULED', 'BUDGET'] as const;
export type RotationReason = (typeof ROTATION_REASONS)[number];

export const WRAPPING_ALGORITHMS = ['RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_256'] as const;
export type WrappingAlgorithm = (typeof WRAPPING_ALGORITHMS)[number];

export const WRAPPING_KEY_SPECS = ['RSA_3072', 'RSA_4096'] as const;
export type WrappingKeySpec = (typeof WRAPPING_KEY_SPECS)[number];

/** Data-plane operations, checked against the key's spec by `checkUsage`. */
export const CRYPTO_OPERATIONS = [
  'Encrypt', 'Decrypt', 'ReEncrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'GenerateMac', 'VerifyMac',
] as const;
export type CryptoOperation = (typeof CRYPTO_OPERATIONS)[number];

/** Tags, required context and encryption context are string maps (KMS practice). */
export type StringMap = Readonly<Record<string, string>>;

/**
 * Where the (wrapped) material of a version lives, and a one-way fingerprint of it. Never the material:
 * the application layer generates or imports it, stores it wrapped in `key_material`, and passes these.
 */
export interface VersionMaterial {
  readonly materialRef: string;
  readonly fingerprint: string;
}

/**
 * Every command carries its time: the application layer reads the clock, the domain never does.
 * Events inherit this meta unchanged (the event store accepts only EventMeta fields).
 */
export type CommandMeta = EventMeta & { readonly now: string };
