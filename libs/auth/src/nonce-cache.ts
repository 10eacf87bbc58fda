/**
 * Replay guard: remembers each (scope, nonce) seen for as long as a request carrying it could still pass
 * the ±30 s timestamp check (2 × skew after receipt, plus a second), then forgets it. Entries are kept
 * in receipt order, so expiry is a sweep from the front: O(1) amortised per request, memory bounded by
 * the request rate × 61 s and by `maxEntries` (when full, new nonces are refused: fail closed).
 */
import { MAX_CLOCK_SKEW_MS } from './auth.types';

/** Outcome of {@link NonceCache.claim}. */
export type NonceClaim = 'fresh' | 'replayed' | 'full';

export class NonceCache {
  private readonly expiries = new Map<string, number>();
  readonly retentionMs: number;

  constructor(private readonly maxEntries = 2_000_000, skewMs = MAX_CLOCK_SKEW_MS) {
    this.retentionMs = 2 * skewMs + 1000;
  }

  /** Records `nonce` under `scope` (session id or credential id) at `now`; 'replayed' when already seen. */
  claim(scope: string, nonce: string, now: number = Date.now()): NonceClaim {
    this.sweep(now);
    const key = `${scope}\n${nonce}`;
    if (this.expiries.has(key)) return 'replayed';
    if (this.expiries.size >= this.maxEntries) return 'full';
    this.expiries.set(key, now + this.retentionMs);
    return 'fresh';
  }

  get size(): number {
    return this.expiries.size;
  }

  private sweep(now: number): void {
    for (const [key, expiry] of this.expiries) {
      if (expiry > now) break;
      this.expiries.delete(key);
    }
  }
}

/** Outcome of {@link SharedNonceStore.claim}. */
export type SharedNonceClaim = 'fresh' | 'replayed' | 'unavailable';

/**
 * The replay guard shared by every replica of a service, durable across restarts (the in-memory
 * {@link NonceCache} is neither). `claim` is 'fresh' exactly once per (scope, nonce) for as long as
 * `expiresAt` has not passed; 'unavailable' when the store cannot answer (the caller refuses: fail closed).
 */
export interface SharedNonceStore {
  claim(use: { readonly scope: string; readonly nonce: string; readonly expiresAt: number }): Promise<SharedNonceClaim>;
}
