/**
 * Limits of the data-key caches (the AWS Encryption SDK's caching CMM). Every limit is checked before
 * a cached key is used: a use that would go past one is refused, the entry is evicted (its plaintext
 * zeroed) and a fresh key is fetched. So `maxMessagesPerKey: N` allows exactly N encryptions per
 * data key, and `maxBytesPerKey: B` never lets one data key encrypt more than B bytes in total.
 */

/** Limits of the encrypt-side cache (plaintext data keys reused for new messages). */
export interface EncryptCacheLimits {
  /** A cached data key is used only while `now - fetchedAt < maxAgeMs` (ms, > 0). Default 300000. */
  readonly maxAgeMs: number;
  /**
   * Messages one data key may encrypt, 1..2^32 (each message is one AES-GCM invocation with a random
   * IV, and NIST SP 800-38D caps random IVs at 2^32 per key). Default 2^32.
   */
  readonly maxMessagesPerKey: number;
  /** Plaintext bytes one data key may encrypt in total (integer >= 0). Default Number.MAX_SAFE_INTEGER. */
  readonly maxBytesPerKey: number;
  /** Data keys held at once; beyond it the least recently used is evicted. Default 1000. */
  readonly maxEntries: number;
}

/** Limits of the decrypt-side cache (unwrapped data keys keyed by the hash of their wrapped blob). */
export interface DecryptCacheLimits {
  /** An unwrapped key is reused only while `now - fetchedAt < maxAgeMs` (ms, > 0). Default 300000. */
  readonly maxAgeMs: number;
  /** Unwrapped keys held at once; beyond it the least recently used is evicted. Default 1000. */
  readonly maxEntries: number;
}

/** Most messages one cached data key may encrypt (AWS Encryption SDK's limit; 2^32 random 96-bit IVs under one AES-GCM key). */
export const MAX_MESSAGES_PER_KEY = 2 ** 32;

/** Encrypt-side cache limits used when none are given. */
export const DEFAULT_ENCRYPT_LIMITS: EncryptCacheLimits = {
  maxAgeMs: 300_000,
  maxMessagesPerKey: MAX_MESSAGES_PER_KEY,
  maxBytesPerKey: Number.MAX_SAFE_INTEGER,
  maxEntries: 1000,
};

/** Decrypt-side cache limits used when none are given: 5 minutes, 1000 entries. */
export const DEFAULT_DECRYPT_LIMITS: DecryptCacheLimits = { maxAgeMs: 300_000, maxEntries: 1000 };

/** A cache limit is out of range; `field` names it. */
export class CacheLimitsInvalidError extends Error {
  override readonly name = 'CacheLimitsInvalidError';
  readonly code = 'CACHE_LIMITS_INVALID';
  constructor(readonly field: string, rule: string) {
    super(`cache limit ${field} must be ${rule}`);
  }
}

const isInt = (n: unknown, min: number, max = Number.MAX_SAFE_INTEGER): boolean =>
  typeof n === 'number' && Number.isSafeInteger(n) && n >= min && n <= max;

/** Fills defaults and validates encrypt limits. @throws CacheLimitsInvalidError naming the bad field. */
export function encryptLimits(partial: Partial<EncryptCacheLimits> = {}): EncryptCacheLimits {
  const l = { ...DEFAULT_ENCRYPT_LIMITS, ...partial };
  if (!(typeof l.maxAgeMs === 'number' && l.maxAgeMs > 0)) throw new CacheLimitsInvalidError('maxAgeMs', 'a number > 0');
  if (!isInt(l.maxMessagesPerKey, 1, MAX_MESSAGES_PER_KEY)) throw new CacheLimitsInvalidError('maxMessagesPerKey', 'an integer in 1..2^32');
  if (!isInt(l.maxBytesPerKey, 0)) throw new CacheLimitsInvalidError('maxBytesPerKey', 'a safe integer >= 0');
  if (!isInt(l.maxEntries, 1)) throw new CacheLimitsInvalidError('maxEntries', 'an integer >= 1');
  return l;
}

/** Fills defaults and validates decrypt limits. @throws CacheLimitsInvalidError naming the bad field. */
export function decryptLimits(partial: Partial<DecryptCacheLimits> = {}): DecryptCacheLimits {
  const l = { ...DEFAULT_DECRYPT_LIMITS, ...partial };
  if (!(typeof l.maxAgeMs === 'number' && l.maxAgeMs > 0)) throw new CacheLimitsInvalidError('maxAgeMs', 'a number > 0');
  if (!isInt(l.maxEntries, 1)) throw new CacheLimitsInvalidError('maxEntries', 'an integer >= 1');
  return l;
}
