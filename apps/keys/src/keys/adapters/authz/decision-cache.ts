/**
 * Decisions cached per (principal, action, resource attributes, encryption context). Any policy-service
 * event (a policy put/delete, a principal revoked, a credential rotated, ...) clears the whole cache:
 * changes are rare and a full clear is always correct. A generation counter keeps a decision that was
 * asked before a clear from being stored after it (the stale-refill race).
 */
import { LRUCache } from 'lru-cache';
import type { AuthorizationDecision, AuthorizationRequest } from '../../application/ports';

export interface DecisionCacheOptions {
  /** How long a decision is reused without any policy event (bounds a lost invalidation). Default 30 s. */
  readonly ttlMs?: number;
  /** Most entries; the least recently used is dropped when full. Default 10,000. */
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
  // lru-cache does the bounding (least recently used out first) and the TTL; this class adds the
  // generation guard and the hit/miss counters its callers and tests read.
  private readonly entries: LRUCache<string, AuthorizationDecision> | null;
  private gen = 0;
  readonly stats = { hits: 0, misses: 0, clears: 0 };

  constructor(opts: DecisionCacheOptions = {}) {
    const ttl = opts.ttlMs ?? 30_000;
    const clock = opts.clock ?? Date.now;
    // ttlMs 0 disables caching (lru-cache reads ttl 0 as "no expiry", the opposite).
    this.entries = ttl === 0 ? null : new LRUCache({ max: opts.maxEntries ?? 10_000, ttl, ttlAutopurge: false, ttlResolution: 0, perf: { now: clock } });
  }

  get generation(): number {
    return this.gen;
  }

  get(key: string): AuthorizationDecision | undefined {
    const d = this.entries?.get(key);
    if (d === undefined) this.stats.misses++;
    else this.stats.hits++;
    return d;
  }

  /** Stores `decision` unless the cache was cleared since `generation` was read. */
  set(key: string, decision: AuthorizationDecision, generation: number): void {
    if (generation !== this.gen) return;
    this.entries?.set(key, decision);
  }

  clear(): void {
    this.gen++;
    this.entries?.clear();
    this.stats.clears++;
  }

  get size(): number {
    return this.entries?.size ?? 0;
  }
}
