import { backoffDelay, RETRIABLE, type BusErrorCode, type ReplyError } from '@ekm/contracts';

/**
 * A typed failure returned by an EKM service (or raised by the client itself for timeouts and an
 * unreachable bus). `code` is one of the contract's {@link BusErrorCode}s; switch on it, not on `message`.
 */
export class EkmError extends Error {
  override readonly name = 'EkmError';
  /** Wire error code. */
  readonly code: BusErrorCode;
  /** Extra machine-readable facts from the service (never secrets). */
  readonly details?: Readonly<Record<string, unknown>>;

  constructor(error: ReplyError) {
    super(error.message);
    this.code = error.code;
    if (error.details !== undefined) this.details = error.details;
  }

  /** Whether retrying the same request (with the same idempotency key) may succeed. */
  get retriable(): boolean {
    return RETRIABLE[this.code] ?? false;
  }

  /**
   * The service's hint, in milliseconds, before a retry can succeed: set on `EKM_RATE_LIMITED`
   * (`details.retryAfterMs`, the time until the caller's token bucket has a token again), else undefined.
   */
  get retryAfterMs(): number | undefined {
    const v = this.details?.retryAfterMs;
    return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
  }
}

/** Longest retry hint the client waits for; a longer one is thrown to the caller at once. */
export const MAX_RETRY_AFTER_MS = 10_000;

/**
 * How long to wait before attempt `attempt + 1` after `err`: exponential backoff (100 ms doubling, at
 * most 1 s) or, when the service gave a retry hint (`EKM_RATE_LIMITED`), the hint plus up to the same
 * again at random, so a refused burst of calls does not come back at one instant. Undefined = do not
 * retry (the hint is over {@link MAX_RETRY_AFTER_MS}).
 */
export function retryDelayMs(err: EkmError, attempt: number, random: () => number = Math.random): number | undefined {
  const backoff = backoffDelay(attempt, { initialMs: 100, maxMs: 1000 });
  const hint = err.retryAfterMs;
  if (hint === undefined) return backoff;
  if (hint > MAX_RETRY_AFTER_MS) return undefined;
  return Math.max(backoff, Math.ceil(hint * (1 + random())));
}
