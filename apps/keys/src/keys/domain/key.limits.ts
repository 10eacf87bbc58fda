/**
 * Tunable bounds of the lifecycle, passed to `decide` (tests pass shorter windows; production uses the
 * defaults). Kept out of commands so a caller cannot widen them per request.
 */
export interface KeyLifecycleLimits {
  /** Deletion waiting period in whole days (ARCHITECTURE §4: 7–30, default 30). */
  readonly minPendingWindowDays: number;
  readonly maxPendingWindowDays: number;
  readonly defaultPendingWindowDays: number;
  /**
   * Periodic rotation in whole days. Upper bound 2560 (~7 years) is AWS KMS's own limit, so the
   * AWS-compatible API accepts every period AWS accepts. Lower bound 1 rather than AWS's 90: a version
   * here is one wrapped row, the scheduler's slot is a day, and AWS's floor is about per-version billing.
   */
  readonly minRotationPeriodDays: number;
  readonly maxRotationPeriodDays: number;
  readonly defaultRotationPeriodDays: number;
  /** Validity of an import token in hours (24, as AWS KMS: long enough for an offline HSM ceremony, short enough to bound a leaked token). */
  readonly importTokenValidityHours: number;
}

export const DEFAULT_KEY_LIMITS: KeyLifecycleLimits = {
  minPendingWindowDays: 7,
  maxPendingWindowDays: 30,
  defaultPendingWindowDays: 30,
  minRotationPeriodDays: 1,
  maxRotationPeriodDays: 2560,
  defaultRotationPeriodDays: 365,
  importTokenValidityHours: 24,
};

// Attribute limits follow AWS KMS so the AWS-compatible API accepts the same inputs.
export const MAX_DESCRIPTION_LENGTH = 8192;
export const MAX_TAGS = 50;
export const MAX_TAG_KEY_LENGTH = 128;
export const MAX_TAG_VALUE_LENGTH = 256;
export const MAX_ALIAS_LENGTH = 256;
export const MAX_REASON_LENGTH = 1024;
export const MAX_REQUIRED_CONTEXT_ENTRIES = 16;
export const MAX_CONTEXT_KEY_LENGTH = 128;
export const MAX_CONTEXT_VALUE_LENGTH = 256;
export const MAX_ID_LENGTH = 256;

/**
 * AES-GCM with random 96-bit IVs: at most 2^32 invocations per key (NIST SP 800-38D §8.3). The default
 * budget is half of that, and rotation is forced at `DEFAULT_BUDGET_THRESHOLD` of the budget so the
 * new version is primary long before the hard stop.
 */
export const GCM_INVOCATION_LIMIT = 2 ** 32;
export const DEFAULT_GCM_BUDGET = 2 ** 31;
export const DEFAULT_BUDGET_THRESHOLD = 0.75;
