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

type Entry = { readonly material: KeyMaterial; readonly expiresAt: number };

/** Cache key for a KEK version; `invalidate(keyId)` drops every version of the key. */
export const kekCacheKey = (keyId: string, version: number): string => `${keyId}:${version}`;
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
        // A replacement ('set') disposes the old entry while the key stays: keep it indexed.
        if (reason === 'set') return;
        const id = keyIdOf(key);
        const keys = this.byKeyId.get(id);
        if (keys) {
          keys.delete(key);
          if (keys.size === 0) this.byKeyId.delete(id);
        }
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
   * (never lengthens) this entry's life below the cache's TTL.
   */
  set(key: string, material: KeyMaterial, ttlMs?: number): void {
    const old = this.lru.peek(key);
    if (old?.material === material) return;
    let keys = this.byKeyId.get(keyIdOf(key));
    if (!keys) this.byKeyId.set(keyIdOf(key), (keys = new Set()));
    keys.add(key);
    const now = this.now();
    const ttl = ttlMs === undefined ? this.options.ttlMs : Math.min(this.options.ttlMs, Math.max(0, ttlMs));
    this.lru.set(key, { material, expiresAt: now + ttl });
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

  clear(): void {
    this.epoch++;
    this.lru.clear();
    this.byKeyId.clear();
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
