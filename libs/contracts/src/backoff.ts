/**
 * The one exponential backoff of EKM: the SDK between attempts of a call, JetStream consumers between
 * redeliveries, the rotation scheduler between attempts of a failed slot. Pure (the random source is
 * injected), so every user tests its delays exactly.
 */

/** Exponential backoff; full jitter off by default (tests want predictable delays). */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Multiplier per attempt; default 2. */
  readonly factor?: number;
  /** 0..1: fraction of the delay randomised downwards, to spread replicas' retries. Default 0. */
  readonly jitter?: number;
}

/** Delay before retry number `attempt` (1-based): `initialMs * factor^(attempt-1)`, at most `maxMs`. */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(attempt));
  const raw = Math.min(policy.maxMs, policy.initialMs * (policy.factor ?? 2) ** (n - 1));
  const jitter = Math.min(1, Math.max(0, policy.jitter ?? 0));
  return Math.max(0, Math.round(raw * (1 - jitter * random())));
}
