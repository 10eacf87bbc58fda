/**
 * Shared vocabulary of EKM authentication: who a request comes from, why one was refused, and the
 * wire names (headers, subjects, prefixes) of the scheme in docs/auth.md.
 */

/** The authenticated caller a handler sees. Never holds credentials or keys. */
export interface AuthenticatedPrincipal {
  readonly principalId: string;
  /** The principal's tenant; `*` is the operator scope (all tenants). */
  readonly tenant: string;
  readonly roles: readonly string[];
  /** Session the request was signed under (absent in `disabled` mode and for service-internal calls). */
  readonly sessionId?: string;
  /** The edge the session was opened through (`kms-api` for SigV4 sessions); absent for bus logins. */
  readonly via?: string;
}

/** `EKM_AUTH`: `required` (default) or `disabled` (refused when `EKM_ENV=production`). */
export type AuthMode = 'required' | 'disabled';

/** The principal every request runs as when `EKM_AUTH=disabled` (development and tests only). */
export const ANONYMOUS_PRINCIPAL: AuthenticatedPrincipal = Object.freeze({ principalId: 'anonymous', tenant: '*', roles: Object.freeze(['admin']) });

/**
 * Why a request (or a login) was refused: `details.reason` of an `EKM_UNAUTHENTICATED` reply and the
 * `reason` of an `AuthenticationFailed` event. Codes never change meaning; add new ones instead.
 */
export const AuthFailureReason = {
  /** No `Ekm-Session` / `Ekm-Signature` headers (or an empty one). */
  MissingCredentials: 'MISSING_CREDENTIALS',
  /** A header is present but malformed (timestamp not an integer, nonce of the wrong shape, ...). */
  MalformedCredentials: 'MALFORMED_CREDENTIALS',
  /** The session token was not issued by EKM (bad MAC, garbage, other deployment's secret). */
  SessionInvalid: 'SESSION_INVALID',
  /** The session's `expiresAt` has passed: log in again. */
  SessionExpired: 'SESSION_EXPIRED',
  /** The session was revoked (logout or an operator). */
  SessionRevoked: 'SESSION_REVOKED',
  /** The principal was revoked. */
  PrincipalRevoked: 'PRINCIPAL_REVOKED',
  /** The credential the session was opened with was revoked (rotation ended, or an operator). */
  CredentialRevoked: 'CREDENTIAL_REVOKED',
  /** The HMAC does not match: body, subject, timestamp or nonce altered, or a wrong session key. */
  SignatureInvalid: 'SIGNATURE_INVALID',
  /** `Ekm-Timestamp` is more than 30 s away from the server clock (stale or future). */
  TimestampSkew: 'TIMESTAMP_SKEW',
  /** This nonce was already used with this session inside the replay window. */
  Replayed: 'REPLAYED',
  /** The replay cache is full (flood); the request is refused rather than accepted unchecked. */
  ReplayCacheFull: 'REPLAY_CACHE_FULL',
  /** The shared nonce store (Postgres) could not be reached: refused rather than accepted unchecked. */
  ReplayStoreUnavailable: 'REPLAY_STORE_UNAVAILABLE',
  /** Login: the principal does not exist (or is not active). Same reply text as a bad proof. */
  PrincipalUnknown: 'PRINCIPAL_UNKNOWN',
  /** Login: the Ed25519 proof does not verify under the credential's public key. */
  LoginProofInvalid: 'LOGIN_PROOF_INVALID',
  /** SigV4 login: no such access key id. */
  AccessKeyUnknown: 'ACCESS_KEY_UNKNOWN',
  /** SigV4 login: the access key was deleted (revoked) or its principal revoked. */
  AccessKeyRevoked: 'ACCESS_KEY_REVOKED',
} as const;

/** One of {@link AuthFailureReason}. */
export type AuthFailureReason = (typeof AuthFailureReason)[keyof typeof AuthFailureReason];

/** Header carrying the session token. */
export const SESSION_HEADER = 'Ekm-Session';
/** Header carrying the request time, integer milliseconds since the Unix epoch (decimal). */
export const TIMESTAMP_HEADER = 'Ekm-Timestamp';
/** Header carrying a fresh random nonce per request: 16..64 characters of base64url. */
export const NONCE_HEADER = 'Ekm-Nonce';
/** Header carrying base64url(HMAC-SHA256(sessionKey, canonical request)). */
export const SIGNATURE_HEADER = 'Ekm-Signature';
/**
 * Development-only header naming the principal in `disabled` mode (an unauthenticated claim; tests of
 * services that do not care about auth use it). Ignored in `required` mode.
 */
export const DEV_PRINCIPAL_HEADER = 'Ekm-Principal';

/**
 * Header carrying the caller's request id (idempotency key of a mutation, correlation id of the trail).
 * It is covered by the signature; when absent the canonical request holds an empty line.
 */
export const REQUEST_ID_SIGNED_HEADER = 'Ekm-Request-Id';
/** Request id syntax: `@ekm/contracts`' REQUEST_ID_PATTERN (the signature covers the id the caller chose). */
export { REQUEST_ID_PATTERN as REQUEST_ID_SYNTAX } from '@ekm/contracts';

/** The only request subject that needs no session: the login itself. */
export const LOGIN_SUBJECT = 'ekm.v1.policy.login';

/**
 * The SigV4 login of the AWS-compatible HTTPS edge: like {@link LOGIN_SUBJECT} it needs no session (the
 * SigV4 signature, checked by the policy service, is the proof) and answers with one.
 */
export const SIGV4_LOGIN_SUBJECT = 'ekm.v1.policy.access-key-login';

/** Allowed clock difference between caller and service, both ways. */
export const MAX_CLOCK_SKEW_MS = 30_000;

/** Default session lifetime: short, so a lost revocation message is bounded. */
export const DEFAULT_SESSION_TTL_MS = 10 * 60_000;

/** Nonce syntax: `@ekm/contracts`' NONCE_PATTERN (the login request schema lives there too). */
export { NONCE_PATTERN } from '@ekm/contracts';
