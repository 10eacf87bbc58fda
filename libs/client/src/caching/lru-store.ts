/**
 * The data-key caches' store: `lru-cache` bounds it (least recently used out first), and its dispose
 * hook sends every way an entry leaves (eviction, replacement by another entry, delete, clear) through
 * `onEvict`, so the data-key caches zero plaintext keys in exactly one place.
 */
import { LRUCache } from 'lru-cache';

export class LruStore<E extends object> {
  private readonly entries: LRUCache<string, E>;

  constructor(maxEntries: number, onEvict: (entry: E) => void) {
    this.entries = new LRUCache<string, E>({ max: maxEntries, dispose: (entry) => onEvict(entry) });
  }

  get size(): number {
    return this.entries.size;
  }

  /** The entry, marked most recently used. */
  get(key: string): E | undefined {
    return this.entries.get(key);
  }

  /** Stores `entry`; a different entry it replaces and the least recently used one beyond the bound are evicted. */
  set(key: string, entry: E): void {
    this.entries.set(key, entry);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Deletes every entry `drop` selects. */
  deleteWhere(drop: (entry: E) => boolean): number {
    let n = 0;
    for (const [key, entry] of [...this.entries.entries()]) {
      if (drop(entry)) {
        this.entries.delete(key);
        n++;
      }
    }
    return n;
  }

  clear(): void {
    this.entries.clear();
  }
}
