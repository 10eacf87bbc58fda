/**
 * Wire error codes: the single `as const` table every reply error uses (nats.js `ServiceVerb` pattern).
 * Adapters map their domain rejections onto these codes in one exhaustive table each; clients switch
 * on them. A code never changes meaning once released; add new ones instead.
 */
export const BusErrorCode = {
  /** A field of the request failed its schema rule; the message names the field path and the rule. */
  Validation: 'EKM_VALIDATION',
  /** The body is not a JSON object (not UTF-8, not JSON, or JSON of the wrong top-level type). */
  MalformedRequest: 'EKM_MALFORMED_REQUEST',
  /** The body is larger than the transport's limit (`EKM_MAX_REQUEST_BYTES`, default 1 MiB). */
  PayloadTooLarge: 'EKM_PAYLOAD_TOO_LARGE',
  /** The caller could not be authenticated (missing, invalid, expired or replayed credential). */
  Unauthenticated: 'EKM_UNAUTHENTICATED',
  /** The caller is authenticated but policy denies the operation on this resource. */
  Forbidden: 'EKM_FORBIDDEN',
  /** A non-key resource (alias, policy, principal, schedule, ...) does not exist. */
  NotFound: 'EKM_NOT_FOUND',
  /** The key id or alias does not name a key (or the key is destroyed and forgotten). */
  KeyNotFound: 'EKM_KEY_NOT_FOUND',
  /**
   * The key exists but its state forbids the operation (disabled, pending deletion, revoked, ...). When a
   * key state refused, `details.keyStatus` names it (`Disabled`, `Destroyed`, ...): switch on that, not on the message.
   */
  KeyNotActive: 'EKM_KEY_NOT_ACTIVE',
  /** The key has no such version. */
  VersionNotFound: 'EKM_VERSION_NOT_FOUND',
  /** The operation would disable or destroy the primary version; promote another version first. */
  PrimaryVersionLocked: 'EKM_PRIMARY_VERSION_LOCKED',
  /** A concurrent change won (expected version mismatch, duplicate alias, ...); re-read and retry. */
  Conflict: 'EKM_CONFLICT',
  /** The ciphertext blob is truncated, forged, or was not produced by EKM. */
  InvalidCiphertext: 'EKM_INVALID_CIPHERTEXT',
  /** The encryption context given on decrypt differs from the one bound at encryption. */
  ContextMismatch: 'EKM_CONTEXT_MISMATCH',
  /** The operation or parameter combination is not supported (key spec, algorithm, root of trust). */
  Unsupported: 'EKM_UNSUPPORTED',
  /** The import token is unknown, expired, or belongs to another key. */
  ImportTokenInvalid: 'EKM_IMPORT_TOKEN_INVALID',
  /** A dependency (Postgres, NATS, policy service) is unavailable; the operation did not happen. */
  Unavailable: 'EKM_UNAVAILABLE',
  /** The audit record could not be committed, so the operation was refused (fail closed). */
  AuditUnavailable: 'EKM_AUDIT_UNAVAILABLE',
  /** The root of trust (HSM or software root) cannot be reached or refused to unwrap. */
  RootKeyUnavailable: 'EKM_ROOT_KEY_UNAVAILABLE',
  /**
   * The tenant's root key lives in an external KMS that refused (access denied, key disabled or in an
   * invalid state) or did not answer in time: the operation was not performed (fail closed). The message
   * names the tenant and the reason class, never the KMS's credentials or its own words.
   */
  ExternalKeyUnavailable: 'EKM_EXTERNAL_KEY_UNAVAILABLE',
  /** The caller exceeded its request rate or in-flight quota. */
  RateLimited: 'EKM_RATE_LIMITED',
  /** The operation did not finish in time; its outcome may be unknown, so retry idempotently. */
  Timeout: 'EKM_TIMEOUT',
  /** An unexpected failure; the message carries a request id to find the server log line. */
  Internal: 'EKM_INTERNAL',
  /**
   * The request's deadline (`Ekm-Timeout-Ms` from arrival) passed before the service started it: nothing was done. Not
   * retriable as it is: the caller stopped waiting; a new attempt sends a new deadline.
   */
  DeadlineExceeded: 'EKM_DEADLINE_EXCEEDED',
  /**
   * The key version still protects live data assets (re-wrap tracking of the rotation service): re-wrap
   * them with ReEncrypt first, or pass `force: true` (recorded).
   */
  VersionInUse: 'EKM_VERSION_IN_USE',
  /**
   * SDK side: the answer did not come from EKM (a login reply not signed by the pinned service identity,
   * or a reply that is not sealed under the session); nothing from it was used.
   */
  ServiceUntrusted: 'EKM_SERVICE_UNTRUSTED',
  /** The operation carries key material or plaintext, so its body must be sealed under the session (`Ekm-Seal`). */
  SealRequired: 'EKM_SEAL_REQUIRED',
  /**
   * The key's tenant is sealed (`ekm tenant seal`): every operation of that tenant is refused on every
   * replica until an admin unseals it. Not retriable: it stays so until an explicit unseal.
   */
  TenantSealed: 'EKM_TENANT_SEALED',
  /** UnsealTenant: the tenant was sealed with an unseal secret and the secret given is absent or wrong. */
  UnsealSecretInvalid: 'EKM_UNSEAL_SECRET_INVALID',
} as const;

/** One of the wire error codes in {@link BusErrorCode}. */
export type BusErrorCode = (typeof BusErrorCode)[keyof typeof BusErrorCode];

/** Every wire error code, in table order. */
export const BUS_ERROR_CODES: readonly BusErrorCode[] = Object.values(BusErrorCode);

/**
 * Whether a caller may retry the same request unchanged and expect a different outcome (Novu's
 * retriable vs terminal split). Retriable codes describe transient conditions; retry with backoff and,
 * for writes, the same idempotency key. `Record<BusErrorCode, boolean>` makes this table exhaustive.
 */
export const RETRIABLE: Readonly<Record<BusErrorCode, boolean>> = {
  // The external KMS may answer again (re-enabled key, restored grant, network back).
  EKM_EXTERNAL_KEY_UNAVAILABLE: true,
  EKM_VALIDATION: false,
  EKM_MALFORMED_REQUEST: false,
  EKM_PAYLOAD_TOO_LARGE: false,
  EKM_UNAUTHENTICATED: false,
  EKM_FORBIDDEN: false,
  EKM_NOT_FOUND: false,
  EKM_KEY_NOT_FOUND: false,
  EKM_KEY_NOT_ACTIVE: false,
  EKM_VERSION_NOT_FOUND: false,
  EKM_PRIMARY_VERSION_LOCKED: false,
  // A conflict means someone else's write won: re-reading and retrying can succeed.
  EKM_CONFLICT: true,
  EKM_INVALID_CIPHERTEXT: false,
  EKM_CONTEXT_MISMATCH: false,
  EKM_UNSUPPORTED: false,
  EKM_IMPORT_TOKEN_INVALID: false,
  EKM_UNAVAILABLE: true,
  EKM_AUDIT_UNAVAILABLE: true,
  EKM_ROOT_KEY_UNAVAILABLE: true,
  EKM_RATE_LIMITED: true,
  EKM_TIMEOUT: true,
  // Unknown failures are not retried automatically: a bug usually fails the same way twice.
  EKM_INTERNAL: false,
  EKM_DEADLINE_EXCEEDED: false,
  // Stays refused until the assets are re-wrapped: not a transient condition.
  EKM_VERSION_IN_USE: false,
  EKM_SERVICE_UNTRUSTED: false,
  EKM_SEAL_REQUIRED: false,
  EKM_TENANT_SEALED: false,
  EKM_UNSEAL_SECRET_INVALID: false,
};

/** True when `code` is retriable (see {@link RETRIABLE}). */
export function isRetriable(code: BusErrorCode): boolean {
  return RETRIABLE[code];
}

/** Type guard: is `value` a known wire error code? */
export function isBusErrorCode(value: unknown): value is BusErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(RETRIABLE, value);
}
