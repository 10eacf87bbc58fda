/**
 * A token bucket as plain data and pure functions (no clock, no I/O): `burst` tokens of capacity,
 * refilled continuously at `ratePerSecond`; each request takes one token. Times are milliseconds of
 * any monotonic clock, given by the caller, so tests need no timers.
 */

/** Limits of one bucket: refill rate and capacity (the largest burst admitted at once). Both > 0. */
export interface BucketLimits {
  readonly ratePerSecond: number;
  readonly burst: number;
}

/** Tokens available at time `at` (ms). */
export interface BucketState {
  readonly tokens: number;
  readonly at: number;
}

/** Outcome of {@link takeToken}: the new state, and on refusal how long until a token is back. */
export type TakeResult =
  | { readonly ok: true; readonly state: BucketState }
  | { readonly ok: false; readonly state: BucketState; readonly retryAfterMs: number };

/** A bucket nobody has drawn from yet: full. */
export function fullBucket(limits: BucketLimits, now: number): BucketState {
  return { tokens: limits.burst, at: now };
}

/** The bucket at `now`: refilled for the time since `at`, never above `burst`. A clock that steps back refills nothing. */
export function refill(s: BucketState, limits: BucketLimits, now: number): BucketState {
  if (now <= s.at) return s;
  return { tokens: Math.min(limits.burst, s.tokens + ((now - s.at) * limits.ratePerSecond) / 1000), at: now };
}

/** Takes one token at `now`, or refuses with the wait until one is available (at least 1 ms). */
export function takeToken(s: BucketState, limits: BucketLimits, now: number): TakeResult {
  const r = refill(s, limits, now);
  if (r.tokens >= 1) return { ok: true, state: { tokens: r.tokens - 1, at: r.at } };
  let wait = Math.max(1, Math.ceil(((1 - r.tokens) * 1000) / limits.ratePerSecond));
  // The formula is exact on paper; in floating point it can be 1 ms off either way from what refill() will
  // give (0.999 tokens at 1/s: 1.0000000000000009 ms, rounded up to 2, while refill has the token at 1 ms).
  // The hint is the first whole millisecond at which refill() really has the token.
  while (refill(r, limits, now + wait).tokens < 1) wait++;
  while (wait > 1 && refill(r, limits, now + wait - 1).tokens >= 1) wait--;
  return { ok: false, state: r, retryAfterMs: wait };
}

/** True when the bucket has refilled to capacity by `now`: forgetting it loses nothing (a new one starts full). */
export function isFullAt(s: BucketState, limits: BucketLimits, now: number): boolean {
  return refill(s, limits, now).tokens >= limits.burst;
}
