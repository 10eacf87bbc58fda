/**
 * AWS's error shape and statuses (JSON 1.1: `{"__type": "<Name>", "message": ...}`), and the one table
 * from EKM bus codes to AWS exceptions. A few codes depend on the operation or on the reply's typed
 * details, never on its message text (a disabled key, `details.keyStatus`, is DisabledException; a
 * context mismatch on Decrypt is InvalidCiphertextException).
 */
import { BusErrorCode } from '@ekm/contracts';

/** AWS KMS exception names EKM answers, with AWS's HTTP status. */
export const AWS_EXCEPTIONS = {
  AccessDeniedException: 400,
  AlreadyExistsException: 400,
  DependencyTimeoutException: 503,
  DisabledException: 400,
  IncompleteSignatureException: 400,
  IncorrectKeyException: 400,
  IncorrectKeyMaterialException: 400,
  InvalidAliasNameException: 400,
  InvalidArnException: 400,
  InvalidCiphertextException: 400,
  InvalidImportTokenException: 400,
  InvalidKeyUsageException: 400,
  InvalidMarkerException: 400,
  InvalidSignatureException: 400,
  KMSInternalException: 500,
  KMSInvalidMacException: 400,
  KMSInvalidStateException: 400,
  LimitExceededException: 400,
  MissingAuthenticationTokenException: 400,
  NotFoundException: 400,
  SerializationException: 400,
  TagException: 400,
  ThrottlingException: 400,
  UnrecognizedClientException: 400,
  UnsupportedOperationException: 400,
  ValidationException: 400,
} as const;
export type AwsExceptionName = keyof typeof AWS_EXCEPTIONS;

/** An answer in AWS's error shape. Messages never hold key material, plaintext or secrets. */
export class AwsError extends Error {
  constructor(readonly type: AwsExceptionName, message: string) {
    super(message);
    this.name = type;
  }

  get status(): number {
    return AWS_EXCEPTIONS[this.type];
  }

  toBody(): { __type: string; message: string } {
    return { __type: this.type, message: this.message };
  }
}

export const validation = (message: string): AwsError => new AwsError('ValidationException', message);

const BY_CODE: Readonly<Record<BusErrorCode, AwsExceptionName>> = {
  EKM_VALIDATION: 'ValidationException',
  EKM_MALFORMED_REQUEST: 'SerializationException',
  EKM_PAYLOAD_TOO_LARGE: 'ValidationException',
  EKM_UNAUTHENTICATED: 'UnrecognizedClientException',
  EKM_FORBIDDEN: 'AccessDeniedException',
  EKM_NOT_FOUND: 'NotFoundException',
  EKM_KEY_NOT_FOUND: 'NotFoundException',
  EKM_KEY_NOT_ACTIVE: 'KMSInvalidStateException',
  EKM_VERSION_NOT_FOUND: 'NotFoundException',
  EKM_PRIMARY_VERSION_LOCKED: 'KMSInvalidStateException',
  EKM_CONFLICT: 'KMSInvalidStateException',
  EKM_INVALID_CIPHERTEXT: 'InvalidCiphertextException',
  EKM_CONTEXT_MISMATCH: 'AccessDeniedException',
  EKM_UNSUPPORTED: 'UnsupportedOperationException',
  EKM_IMPORT_TOKEN_INVALID: 'InvalidImportTokenException',
  EKM_UNAVAILABLE: 'DependencyTimeoutException',
  EKM_AUDIT_UNAVAILABLE: 'DependencyTimeoutException',
  EKM_ROOT_KEY_UNAVAILABLE: 'DependencyTimeoutException',
  // As AWS KMS answers for a key in an unavailable external key store.
  EKM_EXTERNAL_KEY_UNAVAILABLE: 'KMSInvalidStateException',
  EKM_RATE_LIMITED: 'ThrottlingException',
  EKM_TIMEOUT: 'DependencyTimeoutException',
  EKM_INTERNAL: 'KMSInternalException',
  EKM_DEADLINE_EXCEEDED: 'DependencyTimeoutException',
  EKM_SERVICE_UNTRUSTED: 'KMSInternalException',
  EKM_SEAL_REQUIRED: 'KMSInternalException',
  EKM_VERSION_IN_USE: 'KMSInvalidStateException',
  // A sealed tenant is a state of the key's owner, as a disabled key is: AWS callers see KMSInvalidState.
  EKM_TENANT_SEALED: 'KMSInvalidStateException',
  EKM_UNSEAL_SECRET_INVALID: 'AccessDeniedException',
};

/** Operations whose context mismatch means "this ciphertext does not open with that context". */
const CIPHERTEXT_OPERATIONS: ReadonlySet<string> = new Set(['Decrypt', 'ReEncrypt']);

/** A bus error as the SDK's EkmError carries it. */
export interface BusFailure {
  readonly code: string;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Key states with an AWS exception of their own (the keys service names the state in `details.keyStatus`). */
const BY_KEY_STATUS: Readonly<Record<string, AwsExceptionName>> = { Disabled: 'DisabledException', Destroyed: 'NotFoundException' };

/** The AWS exception of the bus error `e` raised by `operation`. */
export function awsErrorOf(operation: string, e: BusFailure): AwsError {
  const { code, message } = e;
  const known = (Object.hasOwn(BY_CODE, code) ? BY_CODE[code as BusErrorCode] : undefined) ?? 'KMSInternalException';
  if (code === BusErrorCode.KeyNotActive) {
    const status = e.details?.keyStatus;
    const byStatus = typeof status === 'string' && Object.hasOwn(BY_KEY_STATUS, status) ? BY_KEY_STATUS[status] : undefined;
    if (byStatus !== undefined) return new AwsError(byStatus, message);
  }
  if (code === BusErrorCode.ContextMismatch && CIPHERTEXT_OPERATIONS.has(operation)) return new AwsError('InvalidCiphertextException', message);
  if (code === BusErrorCode.Conflict && (operation === 'CreateAlias' || operation === 'UpdateAlias')) return new AwsError('AlreadyExistsException', message);
  if (code === BusErrorCode.Conflict && operation === 'CreateKey') return new AwsError('LimitExceededException', message);
  if (known === 'KMSInternalException') return new AwsError(known, 'internal error');
  return new AwsError(known, message);
}
