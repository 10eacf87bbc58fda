/**
 * Decisions cached per (principal, action, resource attributes, encryption context). Any policy-service
 * event (a policy put/delete, a principal revoked, a credential rotated, ...) clears the whole cache:
 * changes are rare and a full clear is always correct. A generation counter keeps a decision that was
 * asked before a clear from being stored after it (the stale-refill race).
 */
import type { AuthorizationDecision, AuthorizationRequest } from '../../application/ports';

export interface DecisionCacheOptions {
  /** How long a decision is reused without any policy event (bounds a lost invalidation). Default 30 s. */
  readonly ttlMs?: number;
  /** Most entries; the oldest tenth is dropped when full. Default 10,000. */
  readonly maxEntries?: number;
  readonly clock?: () => number;
}

const sorted = (m: Readonly<Record<string, string>> | undefined): Array<[string, string]> => Object.entries(m ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** A canonical cache key: the same request always gives the same string, whatever the key order of its maps. */
export function decisionKey(req: AuthorizationRequest, aliases: readonly string[]): string {
  const r = req.resource;
  return JSON.stringify([req.principal, req.action, r.keyId ?? null, r.tenant ?? null, sorted(r.tags), [...aliases].sort(), sorted(req.encryptionContext)]);
}

export class DecisionCache {
  private readonly entries = new Map<string, { decision: AuthorizationDecision; expiresAt: number }>();
  private gen = 0;
  private readonly ttlMs: number;
  private readonly max: number;
  private readonly clock: () => number;
  readonly stats = { hits: 0, misses: 0, clears: 0 };

  constructor(opts: DecisionCacheOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.max = opts.maxEntries ?? 10_000;
    this.clock = opts.clock ?? Date.now;
  }

  get generation(): number {
    return this.gen;
  }

  get(key: string): AuthorizationDecision | undefined {
    const e = this.entries.get(key);
    if (e === undefined || e.expiresAt <= this.clock()) {
      if (e !== undefined) this.entries.delete(key);
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    return e.decision;
  }

  /** Stores `decision` unless the cache was cleared since `generation` was read. */
  set(key: string, decision: AuthorizationDecision, generation: number): void {
    if (generation !== this.gen || this.ttlMs === 0) return;
    if (this.entries.size >= this.max) {
      let n = Math.ceil(this.max / 10);
      for (const k of this.entries.keys()) {
        if (n-- <= 0) break;
        this.entries.delete(k);
      }
    }
    this.entries.set(key, { decision, expiresAt: this.clock() + this.ttlMs });
  }

  clear(): void {
    this.gen++;
    this.entries.clear();
    this.stats.clears++;
  }

  get size(): number {
    return this.entries.size;
  }
}
