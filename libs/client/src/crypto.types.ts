/**
 * Types of the keys service's data plane as the SDK exposes them (apps/keys/src/keys/adapters/nats/
 * keys-crypto.controller.ts). Binary values are Buffers here and base64 strings on the wire; the
 * client converts. Plaintext results are the caller's to zero (`buf.fill(0)`) after use.
 */
import type { StringMap } from './keys.types';

/** A key id (UUID) or `alias/<name>`. */
export type KeyRef = string;

/** Input of `generateDataKey`: a fresh data key (DEK) wrapped under `keyId`. */
export interface GenerateDataKeyInput {
  readonly keyId: KeyRef;
  /** Bound to the wrapped blob (AAD); decrypt must pass the same map. Must contain the key's required context. */
  readonly encryptionContext?: StringMap;
  /** DEK length in bytes, 1–1024. Default 32 (AES-256). */
  readonly numberOfBytes?: number;
}

/** A data key: its plaintext (zero it after use) and its wrapped blob (store this). */
export interface DataKey {
  /** The key that wrapped the DEK (resolved from an alias). */
  readonly keyId: string;
  readonly keyVersion: number;
  readonly plaintext: Buffer;
  /** Self-describing EKM ciphertext blob (docs/ciphertext-format.md). */
  readonly ciphertextBlob: Buffer;
}

/** A data key without its plaintext (`generateDataKeyWithoutPlaintext`). */
export type WrappedDataKey = Omit<DataKey, 'plaintext'>;

/** Input of `encrypt`. */
export interface EncryptInput {
  readonly keyId: KeyRef;
  /** At most 4096 bytes; use a data key for more. */
  readonly plaintext: Buffer;
  readonly encryptionContext?: StringMap;
}

/** Result of `encrypt` and `reEncrypt`. */
export interface Ciphertext {
  readonly keyId: string;
  readonly keyVersion: number;
  readonly ciphertextBlob: Buffer;
}

/** Input of `decrypt`. The blob names its key and version, so `keyId` is an optional check. */
export interface DecryptInput {
  readonly ciphertextBlob: Buffer;
  readonly encryptionContext?: StringMap;
  /** When given, the blob must belong to this key (id or alias), else `EKM_INVALID_CIPHERTEXT`. */
  readonly keyId?: KeyRef;
}

/** Result of `decrypt`. */
export interface Plaintext {
  readonly keyId: string;
  readonly keyVersion: number;
  readonly plaintext: Buffer;
}

/** Input of `reEncrypt`: decrypts inside the service and encrypts again; the plaintext never leaves it. */
export interface ReEncryptInput {
  readonly ciphertextBlob: Buffer;
  readonly sourceEncryptionContext?: StringMap;
  /** Optional check that the blob belongs to this key. */
  readonly sourceKeyId?: KeyRef;
  /** Target key. Default: the blob's own key, i.e. re-encrypt under its current primary version. */
  readonly destinationKeyId?: KeyRef;
  /** Bound to the new blob. Default: empty (not the source context); pass it again to keep the binding. */
  readonly destinationEncryptionContext?: StringMap;
}

/** Result of `reEncrypt`. */
export interface ReEncrypted extends Ciphertext {
  readonly sourceKeyId: string;
  readonly sourceKeyVersion: number;
}

/** Input of `generateMac` (HMAC_256 keys). */
export interface GenerateMacInput {
  readonly keyId: KeyRef;
  /** At most 4096 bytes. */
  readonly message: Buffer;
  /** Checked against the key's purpose binding (not part of the MAC). */
  readonly encryptionContext?: StringMap;
}

/** A MAC tag and the key version that made it. */
export interface Mac {
  readonly keyId: string;
  readonly keyVersion: number;
  /** 32-byte HMAC-SHA-256 tag. */
  readonly mac: Buffer;
  readonly macAlgorithm: 'HMAC_SHA_256';
}

/** Input of `verifyMac`. */
export interface VerifyMacInput {
  readonly keyId: KeyRef;
  readonly message: Buffer;
  readonly mac: Buffer;
  /** Checked against the key's purpose binding (not part of the MAC). */
  readonly encryptionContext?: StringMap;
}

/** Result of `verifyMac`: a wrong tag is `macValid: false`, not an error. */
export interface MacVerification {
  readonly keyId: string;
  /** The version whose tag matched; null when none did. */
  readonly keyVersion: number | null;
  readonly macValid: boolean;
  readonly macAlgorithm: 'HMAC_SHA_256';
}

/** One item of a batch result: each item succeeds or fails on its own. */
export type BatchItemResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: { readonly code: string; readonly message: string } };
