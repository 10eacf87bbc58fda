/**
 * A Map in recency order with a size bound. Every way an entry leaves (eviction, replacement, delete,
 * clear) goes through `onEvict`, so the data-key caches zero plaintext keys in exactly one place.
 */
export class LruStore<E> {
  private readonly entries = new Map<string, E>(); // insertion order = recency order

  constructor(
    private readonly maxEntries: number,
    private readonly onEvict: (entry: E) => void,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The entry, marked most recently used. */
  get(key: string): E | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  set(key: string, entry: E): void {
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.entries.delete(key);
      if (old !== entry) this.onEvict(old);
    }
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) {
      const [lruKey, lru] = this.entries.entries().next().value as [string, E];
      this.entries.delete(lruKey);
      this.onEvict(lru);
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.onEvict(entry);
  }

  /** Deletes every entry `drop` selects. */
  deleteWhere(drop: (entry: E) => boolean): number {
    let n = 0;
    for (const [key, entry] of [...this.entries]) {
      if (drop(entry)) {
        this.delete(key);
        n++;
      }
    }
    return n;
  }

  clear(): void {
    for (const key of [...this.entries.keys()]) this.delete(key);
  }
}
