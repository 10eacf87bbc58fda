/**
 * Typed errors of @ekm/crypto. Messages name rules and non-secret values (paths, PKCS#11 return
 * codes, lengths) and never material, plaintext, wrapped blobs, PINs or secrets. Errors that could
 * act as an oracle (unwrap, ciphertext) carry no detail and no `cause` at all.
 */
export const CryptoErrorCode = {
  RootKeyUnavailable: 'ROOT_KEY_UNAVAILABLE',
  RootSecretMismatch: 'ROOT_SECRET_MISMATCH',
  RootConfigInvalid: 'ROOT_CONFIG_INVALID',
  RootOperationFailed: 'ROOT_OPERATION_FAILED',
  UnwrapFailed: 'UNWRAP_FAILED',
  InvalidCiphertext: 'INVALID_CIPHERTEXT',
  EncryptionContextInvalid: 'ENCRYPTION_CONTEXT_INVALID',
  ImportMaterialInvalid: 'IMPORT_MATERIAL_INVALID',
  InvalidKeyLength: 'INVALID_KEY_LENGTH',
  KeyMaterialDisposed: 'KEY_MATERIAL_DISPOSED',
  EpochKeyDestroyed: 'EPOCH_KEY_DESTROYED',
} as const;
export type CryptoErrorCode = (typeof CryptoErrorCode)[keyof typeof CryptoErrorCode];

export abstract class CryptoError extends Error {
  abstract readonly code: CryptoErrorCode;
  /** true: the same call may succeed later (HSM back, session rebuilt); false: fix the input or config. */
  abstract readonly retriable: boolean;
}

/** The root of trust cannot be reached: HSM library missing, token absent, login failed, sessions lost. */
export class RootKeyUnavailableError extends CryptoError {
  override readonly name = 'RootKeyUnavailableError';
  readonly code = CryptoErrorCode.RootKeyUnavailable;
  readonly retriable = true;
  /** PKCS#11 return code name (e.g. CKR_PIN_INCORRECT) when there is one; never a PIN or key. */
  constructor(message: string, readonly reason?: string) {
    super(message);
  }
}

/** The configured root secret does not open the sealed root key file (wrong secret or altered file). */
export class RootSecretMismatchError extends CryptoError {
  override readonly name = 'RootSecretMismatchError';
  readonly code = CryptoErrorCode.RootSecretMismatch;
  readonly retriable = false;
  constructor(readonly path: string) {
    super(`the configured root secret does not open the sealed root key at ${path} (wrong EKM_ROOT_SECRET, or the file was altered)`);
  }
}

/** Refusing to start: insecure file mode, malformed sealed file, missing secret in production, unsafe root key. */
export class RootConfigInvalidError extends CryptoError {
  override readonly name = 'RootConfigInvalidError';
  readonly code = CryptoErrorCode.RootConfigInvalid;
  readonly retriable = false;
}

/** The HSM refused an operation for a reason other than availability (e.g. CKR_KEY_SIZE_RANGE). */
export class RootOperationFailedError extends CryptoError {
  override readonly name = 'RootOperationFailedError';
  readonly code = CryptoErrorCode.RootOperationFailed;
  readonly retriable = false;
  constructor(readonly operation: string, readonly reason: string) {
    super(`root of trust refused ${operation}: ${reason}`);
  }
}

/** Every unwrap failure, whatever the cause: no detail, so it is no oracle. */
export class UnwrapFailedError extends CryptoError {
  override readonly name = 'UnwrapFailedError';
  readonly code = CryptoErrorCode.UnwrapFailed;
  readonly retriable = false;
  constructor() {
    super('unwrap failed');
  }
}

/** Every ciphertext failure (parse, version, authentication, wrong key or context): one error, no detail. */
export class InvalidCiphertextError extends CryptoError {
  override readonly name = 'InvalidCiphertextError';
  readonly code = CryptoErrorCode.InvalidCiphertext;
  readonly retriable = false;
  constructor() {
    super('ciphertext is invalid');
  }
}

export type EncryptionContextProblem =
  | 'NOT_AN_OBJECT'
  | 'VALUE_NOT_STRING'
  | 'EMPTY_KEY'
  | 'MALFORMED_STRING'
  | 'TOO_MANY_ENTRIES'
  | 'TOO_LARGE';

/** The encryption context is not a flat Record<string, string> within limits. Names the key, never the value. */
export class EncryptionContextInvalidError extends CryptoError {
  override readonly name = 'EncryptionContextInvalidError';
  readonly code = CryptoErrorCode.EncryptionContextInvalid;
  readonly retriable = false;
  constructor(readonly problem: EncryptionContextProblem, message: string) {
    super(message);
  }
}

/** Imported (BYOK) material is garbage, the wrong size, or not encrypted to our wrapping key. */
export class ImportMaterialInvalidError extends CryptoError {
  override readonly name = 'ImportMaterialInvalidError';
  readonly code = CryptoErrorCode.ImportMaterialInvalid;
  readonly retriable = false;
}

/** A key or data-key length outside what the operation accepts (lengths are not secret). */
export class InvalidKeyLengthError extends CryptoError {
  override readonly name = 'InvalidKeyLengthError';
  readonly code = CryptoErrorCode.InvalidKeyLength;
  readonly retriable = false;
}

/** KeyMaterial used after dispose(): a lifetime bug in the caller, never silently zero bytes. */
export class KeyMaterialDisposedError extends CryptoError {
  override readonly name = 'KeyMaterialDisposedError';
  readonly code = CryptoErrorCode.KeyMaterialDisposed;
  readonly retriable = false;
  constructor() {
    super('key material was used after dispose()');
  }
}

/**
 * The epoch key is not in the root of trust: destroyed by an epoch roll (or never created here).
 * Material wrapped only under it cannot be opened any more; that is the point of crypto-shredding.
 */
export class EpochKeyDestroyedError extends CryptoError {
  override readonly name = 'EpochKeyDestroyedError';
  readonly code = CryptoErrorCode.EpochKeyDestroyed;
  readonly retriable = false;
  constructor(readonly epochId: string) {
    super(`epoch key ${epochId} is not in the root of trust (destroyed by an epoch roll); material wrapped only under it cannot be unwrapped`);
  }
}
