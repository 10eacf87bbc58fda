import { LRUCache } from 'lru-cache';
import type { KeyMaterial } from '../key-material';

export type UnwrappedKeyCacheOptions = {
  /** Entries beyond this evict the least recently used one. */
  maxEntries: number;
  /** Milliseconds an entry lives after it was stored (not refreshed by reads): the backstop. */
  ttlMs: number;
  /** Injectable clock for tests. */
  now?: () => number;
};

/** `group`: an optional second index (the KEK cache groups versions by tenant), see invalidateGroup(). */
type Entry = { readonly material: KeyMaterial; readonly expiresAt: number; readonly group?: string };

/** Cache key for a KEK version; `invalidate(keyId)` drops every version of the key. */
export const kekCacheKey = (keyId: string, version: number): string => `${keyId}:${version}`;
const index = (m: Map<string, Set<string>>, id: string, key: string): void => {
  let keys = m.get(id);
  if (!keys) m.set(id, (keys = new Set()));
  keys.add(key);
};
const unindex = (m: Map<string, Set<string>>, id: string, key: string): void => {
  const keys = m.get(id);
  if (!keys) return;
  keys.delete(key);
  if (keys.size === 0) m.delete(id);
};
const keyIdOf = (key: string): string => {
  const i = key.lastIndexOf(':');
  return i < 0 ? key : key.slice(0, i);
};

/**
 * Unwrapped KEK versions (or any KeyMaterial) in an `lru-cache` (size bound, LRU eviction) with a TTL
 * backstop. The cache owns what it holds: its dispose hook zero-fills the buffers on eviction, expiry,
 * replacement, invalidate() and clear(). A material returned by get() is valid only until the cache next
 * runs: use it synchronously (or through withKey); a disposed material throws on use(), it never yields
 * zero bytes silently. An index by key id makes invalidate(keyId) cost the versions of that key, not the
 * whole cache (it runs on every relayed lifecycle event).
 */
export class UnwrappedKeyCache {
  private readonly lru: LRUCache<string, Entry>;
  private readonly byKeyId = new Map<string, Set<string>>();
  private readonly byGroup = new Map<string, Set<string>>();
  private readonly now: () => number;
  private epoch = 0;
  private lastPurge = -Infinity;

  constructor(private readonly options: UnwrappedKeyCacheOptions) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) throw new RangeError('maxEntries must be an integer >= 1');
    if (!(options.ttlMs > 0)) throw new RangeError('ttlMs must be > 0');
    this.now = options.now ?? Date.now;
    this.lru = new LRUCache<string, Entry>({
      max: options.maxEntries,
      dispose: (entry, key, reason) => {
        entry.material.dispose();
        if (entry.group !== undefined) unindex(this.byGroup, entry.group, key);
        // A replacement ('set') disposes the old entry while the key stays: keep it indexed by key id
        // (set() has re-indexed its group already).
        if (reason === 'set') return;
        unindex(this.byKeyId, keyIdOf(key), key);
      },
    });
  }

  get size(): number {
    return this.lru.size;
  }

  /** Key ids with an entry (the invalidation index; equals the cached ids). */
  get indexedKeyIds(): number {
    return this.byKeyId.size;
  }

  get(key: string): KeyMaterial | undefined {
    const entry = this.lru.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.lru.delete(key);
      return undefined;
    }
    return entry.material;
  }

  /**
   * Stores `material`, taking ownership. Replacing an entry disposes the old material. `ttlMs` shortens
   * (never lengthens) this entry's life below the cache's TTL. `group` indexes the entry for
   * invalidateGroup() too.
   */
  set(key: string, material: KeyMaterial, ttlMs?: number, group?: string): void {
    const old = this.lru.peek(key);
    if (old?.material === material) return;
    index(this.byKeyId, keyIdOf(key), key);
    const now = this.now();
    const ttl = ttlMs === undefined ? this.options.ttlMs : Math.min(this.options.ttlMs, Math.max(0, ttlMs));
    // The old entry's dispose (reason 'set') unindexes its group before the new one is indexed.
    this.lru.set(key, { material, expiresAt: now + ttl, ...(group !== undefined ? { group } : {}) });
    if (group !== undefined) index(this.byGroup, group, key);
    // Expired material is zeroed promptly but not by a full scan on every miss (100,000 entries).
    if (now - this.lastPurge >= Math.min(1_000, this.options.ttlMs)) this.purgeExpired();
  }

  /**
   * Runs `fn` with the cached material, loading (and caching) it on a miss. `fn` must not keep the
   * material past its return. If an invalidate()/clear() happened while loading, the loaded material
   * serves this call only and is then disposed, so a Disable/Destroy is never undone by a slow load.
   */
  async withKey<T>(key: string, load: () => Promise<KeyMaterial>, fn: (material: KeyMaterial) => T): Promise<T> {
    const hit = this.get(key);
    if (hit) return fn(hit);
    const epoch = this.epoch;
    const material = await load();
    if (epoch === this.epoch) {
      this.set(key, material);
      return fn(material);
    }
    try {
      return fn(material);
    } finally {
      material.dispose();
    }
  }

  /** Drops one exact cache key. */
  delete(key: string): boolean {
    return this.lru.delete(key);
  }

  /** Drops `keyId` and every `${keyId}:<version>` entry. Returns how many were dropped. */
  invalidate(keyId: string): number {
    this.epoch++;
    const keys = [...(this.byKeyId.get(keyId) ?? [])];
    let dropped = 0;
    for (const key of keys) if (this.lru.delete(key)) dropped++;
    this.byKeyId.delete(keyId);
    return dropped;
  }

  /** Drops every entry stored with `group`. Returns how many were dropped. */
  invalidateGroup(group: string): number {
    this.epoch++;
    let dropped = 0;
    for (const key of [...(this.byGroup.get(group) ?? [])]) if (this.lru.delete(key)) dropped++;
    this.byGroup.delete(group);
    return dropped;
  }

  clear(): void {
    this.epoch++;
    this.lru.clear();
    this.byKeyId.clear();
    this.byGroup.clear();
  }

  /** Disposes every expired entry (also done by set(), at most once a second). */
  purgeExpired(): number {
    const now = this.now();
    this.lastPurge = now;
    let dropped = 0;
    // Oldest stores expire first, but reads reorder the LRU: scan it all (set() is the miss path).
    for (const [key, entry] of this.lru.entries()) {
      if (entry.expiresAt <= now && this.lru.delete(key)) dropped++;
    }
    return dropped;
  }
}
