/**
 * Types of the keys service's data plane as the SDK exposes them. Results are the wire contract
 * (zod schemas in @ekm/contracts, `z.infer`red) with Buffers where the wire has base64 strings; the
 * client converts. Plaintext results are the caller's to zero (`buf.fill(0)`) after use.
 */
import type { CiphertextReply, DataKeyReply, MacReply, MacVerificationReply, PlaintextReply, ReEncryptReply } from '@ekm/contracts';
import type { StringMap } from './keys.types';

/** `T` with the base64 fields `K` as Buffers. */
type WithBuffers<T, K extends keyof T> = Readonly<Omit<T, K> & { [P in K]: Buffer }>;

/** A key id (UUID) or `alias/<name>`. */
export type KeyRef = string;

/** Input of `generateDataKey`: a fresh data key (DEK) wrapped under `keyId`. */
export interface GenerateDataKeyInput {
  readonly keyId: KeyRef;
  /** Bound to the wrapped blob (AAD); decrypt must pass the same map. Must contain the key's required context. */
  readonly encryptionContext?: StringMap;
  /** DEK length in bytes, 1–1024. Default 32 (AES-256). Give this or `keySpec`, not both. */
  readonly numberOfBytes?: number;
  /** `AES_256` = 32 bytes (AWS's name for the default). Give this or `numberOfBytes`, not both. */
  readonly keySpec?: 'AES_256';
}

/** A data key: its plaintext (zero it after use) and its wrapped blob (store this, docs/ciphertext-format.md). */
export type DataKey = WithBuffers<DataKeyReply, 'plaintext' | 'ciphertextBlob'>;

/** A data key without its plaintext (`generateDataKeyWithoutPlaintext`). */
export type WrappedDataKey = Omit<DataKey, 'plaintext'>;

/** Input of `encrypt`. */
export interface EncryptInput {
  readonly keyId: KeyRef;
  /** At most 4096 bytes; use a data key for more. */
  readonly plaintext: Buffer;
  readonly encryptionContext?: StringMap;
}

/** Result of `encrypt`. */
export type Ciphertext = WithBuffers<CiphertextReply, 'ciphertextBlob'>;

/** Input of `decrypt`. The blob names its key and version, so `keyId` is an optional check. */
export interface DecryptInput {
  readonly ciphertextBlob: Buffer;
  readonly encryptionContext?: StringMap;
  /** When given, the blob must belong to this key (id or alias), else `EKM_INVALID_CIPHERTEXT`. */
  readonly keyId?: KeyRef;
}

/** Result of `decrypt`. */
export type Plaintext = WithBuffers<PlaintextReply, 'plaintext'>;

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
export type ReEncrypted = WithBuffers<ReEncryptReply, 'ciphertextBlob'>;

/** Input of `generateMac` (HMAC_256 keys). */
export interface GenerateMacInput {
  readonly keyId: KeyRef;
  /** At most 4096 bytes. */
  readonly message: Buffer;
  /** Checked against the key's purpose binding (not part of the MAC). */
  readonly encryptionContext?: StringMap;
  /** The only MAC algorithm EKM offers; optional on the wire, as in AWS KMS. */
  readonly macAlgorithm?: 'HMAC_SHA_256';
}

/** A MAC tag (32-byte HMAC-SHA-256) and the key version that made it. */
export type Mac = WithBuffers<MacReply, 'mac'>;

/** Input of `verifyMac`. */
export interface VerifyMacInput {
  readonly keyId: KeyRef;
  readonly message: Buffer;
  readonly mac: Buffer;
  /** Checked against the key's purpose binding (not part of the MAC). */
  readonly encryptionContext?: StringMap;
  /** The only MAC algorithm EKM offers; optional on the wire, as in AWS KMS. */
  readonly macAlgorithm?: 'HMAC_SHA_256';
}

/** Result of `verifyMac`: a wrong tag is `macValid: false` (keyVersion null), not an error. */
export type MacVerification = MacVerificationReply;

/** One item of a batch result: each item succeeds or fails on its own. */
export type BatchItemResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: { readonly code: string; readonly message: string } };
