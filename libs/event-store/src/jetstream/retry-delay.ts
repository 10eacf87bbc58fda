/** Exponential backoff with full jitter off by default (tests want predictable delays). */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Multiplier per attempt; default 2. */
  readonly factor?: number;
  /** 0..1: fraction of the delay randomised downwards, to spread replicas' retries. Default 0. */
  readonly jitter?: number;
}

/** Delay before retry number `attempt` (1-based). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(attempt));
  const raw = Math.min(policy.maxMs, policy.initialMs * (policy.factor ?? 2) ** (n - 1));
  const jitter = Math.min(1, Math.max(0, policy.jitter ?? 0));
  return Math.max(0, Math.round(raw * (1 - jitter * random())));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
