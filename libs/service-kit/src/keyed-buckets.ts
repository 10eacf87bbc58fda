/**
 * One token bucket per key (principal id, tenant) with bounded memory: the map is kept in
 * least-recently-used order, every call drops up to two idle buckets from the cold end (a bucket that
 * refilled to capacity is exactly a new one, so forgetting it changes no decision), and past
 * `maxKeys` the least recently used bucket is dropped even if not full (that key then starts full
 * again: a flood of distinct keys can reset another key's bucket, but never grow memory).
 */
import { fullBucket, isFullAt, takeToken, type BucketLimits, type BucketState } from './token-bucket';

/** Default bound on buckets kept per scope (about 100 bytes each). */
export const DEFAULT_MAX_BUCKETS = 100_000;

interface Entry {
  state: BucketState;
  /** When the last refusal of this key was reported (logged); -Infinity = never. */
  reportedAt: number;
  /** Refusals since that report. */
  refusedSinceReport: number;
}

/** Outcome of {@link KeyedBuckets.take}. `report` is set at most once per key per report interval. */
export type KeyedTake =
  | { readonly ok: true }
  | { readonly ok: false; readonly retryAfterMs: number; readonly report?: { readonly refused: number } };

export class KeyedBuckets {
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly limits: BucketLimits,
    private readonly maxKeys = DEFAULT_MAX_BUCKETS,
    /** Smallest gap between two reports of one key, ms. */
    private readonly reportIntervalMs = 60_000,
  ) {
    if (!(limits.ratePerSecond > 0) || !(limits.burst >= 1)) throw new Error(`KeyedBuckets: rate must be > 0 and burst >= 1 (got ${limits.ratePerSecond}/s, burst ${limits.burst})`);
    if (!(maxKeys >= 1)) throw new Error('KeyedBuckets: maxKeys must be >= 1');
  }

  /** Buckets held now. */
  get size(): number {
    return this.entries.size;
  }

  /** Takes one token from `key`'s bucket at `now` (ms, monotonic). */
  take(key: string, now: number): KeyedTake {
    let e = this.entries.get(key);
    if (e) this.entries.delete(key); // re-inserted below: the map's order is recency
    this.evictForOne(now);
    e ??= { state: fullBucket(this.limits, now), reportedAt: -Infinity, refusedSinceReport: 0 };
    this.entries.set(key, e);
    const r = takeToken(e.state, this.limits, now);
    e.state = r.state;
    if (r.ok) return { ok: true };
    e.refusedSinceReport++;
    if (now - e.reportedAt < this.reportIntervalMs) return { ok: false, retryAfterMs: r.retryAfterMs };
    const report = { refused: e.refusedSinceReport };
    e.reportedAt = now;
    e.refusedSinceReport = 0;
    return { ok: false, retryAfterMs: r.retryAfterMs, report };
  }

  /**
   * Before (re-)inserting a key: drops idle (full) buckets from the cold end, at most two per call
   * (two out for at most one in keeps the map near the set of active keys), then makes room under `maxKeys`.
   */
  private evictForOne(now: number): void {
    let checked = 0;
    for (const [key, e] of this.entries) {
      if (checked++ >= 2 || !isFullAt(e.state, this.limits, now)) break;
      this.entries.delete(key);
    }
    while (this.entries.size >= this.maxKeys) {
      const coldest = this.entries.keys().next();
      if (coldest.done === true) break;
      this.entries.delete(coldest.value);
    }
  }
}
