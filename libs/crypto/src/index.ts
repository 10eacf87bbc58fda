// @ekm/crypto: root of trust (software sealed / PKCS#11), KEK wrap, envelope crypto, ciphertext format,
// BYOK import crypto and the unwrapped-key cache. Pure crypto + the PKCS#11 adapter: no Nest, no I/O
// besides the sealed root file and the HSM. Test helpers live in ./pkcs11/testing (not exported here).
export {
  CryptoError,
  CryptoErrorCode,
  EncryptionContextInvalidError,
  EpochKeyDestroyedError,
  ImportMaterialInvalidError,
  InvalidCiphertextError,
  InvalidKeyLengthError,
  KeyMaterialDisposedError,
  RootConfigInvalidError,
  RootKeyUnavailableError,
  RootOperationFailedError,
  RootSecretMismatchError,
  UnwrapFailedError,
  type EncryptionContextProblem,
} from './errors';
export { KeyMaterial, keyFingerprint } from './key-material';
export { EPOCH_ID_PATTERN, epochCreatedAt, type EpochKeyInfo, type EpochKeyStore } from './epochs/epoch-keys.port';
export { KEK_LENGTH, type RootOfTrust, type RootOfTrustDescription } from './root-of-trust.port';
export { SoftwareRootOfTrust, SEALED_ROOT_FILE, DEV_SECRET_FILE, type SoftwareRootOptions } from './software/software-root-of-trust';
export { EPOCH_DIR, SoftwareEpochKeys, writeDurably } from './software/software-epoch-keys';
export { DEFAULT_SCRYPT, type ScryptParams } from './software/sealed-root-file';
export { Pkcs11RootOfTrust, type Pkcs11RootOptions } from './pkcs11/pkcs11-root-of-trust';
export { openRootOfTrust, type RootOfTrustSettings } from './open-root-of-trust';
export { aesGcmDecrypt, aesGcmEncrypt, GCM_IV_LENGTH, GCM_TAG_LENGTH, type GcmSealed } from './envelope/aes-gcm';
export { kwpUnwrap, kwpWrap } from './envelope/aes-kwp';
export { hmacSha256, verifyHmacSha256, HMAC_SHA256_LENGTH } from './envelope/hmac';
export { dataKeyLength, generateDataKey, MAX_DATA_KEY_BYTES, MIN_DATA_KEY_BYTES, type DataKeySpec } from './envelope/data-key';
export {
  assertEncryptionContext,
  canonicalEncryptionContext,
  MAX_CONTEXT_BYTES,
  MAX_CONTEXT_ENTRIES,
  type EncryptionContext,
} from './envelope/encryption-context';
export {
  BLOB_FORMAT_VERSION,
  BLOB_HEADER_LENGTH,
  BLOB_MAGIC,
  BlobAlgorithm,
  encodeBlob,
  encodeBlobHeader,
  MAX_BLOB_CIPHERTEXT_LENGTH,
  MIN_BLOB_LENGTH,
  parseBlob,
  type BlobAlgorithmName,
  type BlobFields,
  type ParsedBlob,
} from './ciphertext/ciphertext-blob';
export { decryptBlob, encryptBlob, type EncryptBlobInput } from './ciphertext/blob-crypto';
export {
  generateImportWrappingKeyPair,
  IMPORT_MATERIAL_LENGTH,
  unwrapImportedMaterial,
  type ImportableKeySpec,
  type ImportWrappingAlgorithm,
  type ImportWrappingKeyPair,
  type ImportWrappingKeySpec,
  type UnwrapImportedMaterialInput,
} from './import/import-crypto';
export { kekCacheKey, UnwrappedKeyCache, type UnwrappedKeyCacheOptions } from './cache/unwrapped-key-cache';
export { rootFingerprint, ROOT_FINGERPRINT_SCHEME } from './binding/root-fingerprint';
