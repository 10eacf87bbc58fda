import type { KeyMaterial } from '../key-material';

export type UnwrappedKeyCacheOptions = {
  /** Entries beyond this evict the least recently used one. */
  maxEntries: number;
  /** Milliseconds an entry lives after it was stored (not refreshed by reads). */
  ttlMs: number;
  /** Injectable clock for tests. */
  now?: () => number;
};

type Entry = { material: KeyMaterial; expiresAt: number };

/** Cache key for a KEK version; `invalidate(keyId)` drops every version of the key. */
export const kekCacheKey = (keyId: string, version: number): string => `${keyId}:${version}`;

/**
 * Unwrapped KEK versions (or any KeyMaterial) with TTL, a size bound and LRU eviction. The cache owns
 * what it holds: eviction, expiry, replacement, invalidate() and clear() zero-fill the buffers.
 * A material returned by get() is valid only until the cache next runs: use it synchronously (or
 * through withKey); a disposed material throws on use(), it never yields zero bytes silently.
 */
export class UnwrappedKeyCache {
  private readonly entries = new Map<string, Entry>(); // insertion order = recency order
  private readonly now: () => number;
  private epoch = 0;

  constructor(private readonly options: UnwrappedKeyCacheOptions) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) throw new RangeError('maxEntries must be an integer >= 1');
    if (!(options.ttlMs > 0)) throw new RangeError('ttlMs must be > 0');
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): KeyMaterial | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) {
      entry.material.dispose();
      return undefined;
    }
    this.entries.set(key, entry);
    return entry.material;
  }

  /**
   * Stores `material`, taking ownership. Replacing an entry disposes the old material. `ttlMs` shortens
   * (never lengthens) this entry's life below the cache's TTL.
   */
  set(key: string, material: KeyMaterial, ttlMs?: number): void {
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      if (old.material !== material) old.material.dispose();
    }
    const ttl = ttlMs === undefined ? this.options.ttlMs : Math.min(this.options.ttlMs, Math.max(0, ttlMs));
    this.entries.set(key, { material, expiresAt: this.now() + ttl });
    this.purgeExpired();
    while (this.entries.size > this.options.maxEntries) {
      const [lruKey, lru] = this.entries.entries().next().value as [string, Entry];
      this.entries.delete(lruKey);
      lru.material.dispose();
    }
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
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    entry.material.dispose();
    return true;
  }

  /** Drops `keyId` and every `${keyId}:<version>` entry. Returns how many were dropped. */
  invalidate(keyId: string): number {
    this.epoch++;
    let dropped = 0;
    for (const [key, entry] of [...this.entries]) {
      if (key === keyId || key.startsWith(`${keyId}:`)) {
        this.entries.delete(key);
        entry.material.dispose();
        dropped++;
      }
    }
    return dropped;
  }

  clear(): void {
    this.epoch++;
    for (const entry of this.entries.values()) entry.material.dispose();
    this.entries.clear();
  }

  /** Disposes every expired entry (also done on each set()). */
  purgeExpired(): number {
    const now = this.now();
    let dropped = 0;
    for (const [key, entry] of [...this.entries]) {
      if (entry.expiresAt <= now) {
        this.entries.delete(key);
        entry.material.dispose();
        dropped++;
      }
    }
    return dropped;
  }
}
