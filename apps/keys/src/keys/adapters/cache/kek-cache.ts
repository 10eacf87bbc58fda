/**
 * KEK_SOURCE: unwrapped KEK versions in an UnwrappedKeyCache (an lru-cache: at most EKM_KEK_CACHE_MAX
 * entries, each for at most EKM_KEK_CACHE_TTL_MS, zeroed on eviction; 0 for either disables caching).
 * Freshness comes from relayed key events (KeyEventInvalidator drops a key's versions on the events that
 * take material out of use, and clears the whole cache when one may have been missed); every use is
 * also gated by the key state, read through its own cache first. Loaded on a miss from
 * KEY_MATERIAL_STORE and opened by the EpochKeyring under the epoch the row names. A row read just
 * before an epoch roll moved it, whose old epoch key is already gone, is read once more.
 *
 * Single flight: concurrent misses of one version share one store read and one unwrap. The loaded
 * material is reference-counted until every waiter has run its (synchronous) function; the cache keeps
 * its own copy. A load that overlaps an invalidate() of its key serves its waiters and is not cached,
 * so a Disable/Destroy is never undone by a slow load.
 */
import { kekCacheKey, KeyMaterial, UnwrappedKeyCache } from '@ekm/crypto';
import type { KeyMaterialStore } from '../../application/ports';
import { MaterialEpochDestroyedError, type StoredKek } from '../../application/epochs/epoch.ports';
import { MaterialMissingError, type KekSource } from '../../application/crypto/crypto.ports';
import { DependencyUnavailableError } from '../../application/dependency-unavailable';

/** Opens a stored row under its epoch (the EpochKeyring). */
export interface KekOpener {
  unwrap(row: StoredKek): Promise<KeyMaterial>;
  /** How long the version just opened from `row` may stay cached at most (a tenant's external root bound); undefined = the cache TTL. */
  cacheBoundMs?(row: StoredKek): number | undefined;
}

/**
 * Cache group of a row without a tenant root (written before tenant roots): cleared with every tenant.
 * Tenant groups are `t:<tenant>`, so no tenant id can name this group.
 */
const NO_TENANT_ROOT = '-';
const groupOf = (tenant: string): string => `t:${tenant}`;

interface Flight {
  readonly promise: Promise<KeyMaterial>;
  refs: number;
}

export interface KekCacheOptions {
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly now?: () => number;
}

export class KekCache implements KekSource {
  private readonly cache: UnwrappedKeyCache | null;
  private readonly flights = new Map<string, Flight>();
  /** Per key id: bumped by invalidate(), compared by loads that started before. */
  private readonly generations = new Map<string, number>();
  /** Bumped by clear() (a flush after a possibly missed event): no load started before it is cached. */
  private clears = 0;
  /** Bumped by clearTenant(); `tenantCleared` holds its value at each group's last clear (few tenants are ever sealed). */
  private tenantClears = 0;
  private readonly tenantCleared = new Map<string, number>();
  /** Counters for tests and metrics. */
  readonly stats = { hits: 0, loads: 0, invalidations: 0 };

  constructor(
    private readonly store: KeyMaterialStore,
    private readonly root: KekOpener,
    options: KekCacheOptions,
  ) {
    this.cache = options.ttlMs > 0 && options.maxEntries > 0
      ? new UnwrappedKeyCache({ ttlMs: options.ttlMs, maxEntries: options.maxEntries, ...(options.now ? { now: options.now } : {}) })
      : null;
  }

  get size(): number {
    return this.cache?.size ?? 0;
  }

  async withKek<T>(keyId: string, version: number, fn: (kek: KeyMaterial) => T): Promise<T> {
    const k = kekCacheKey(keyId, version);
    const hit = this.cache?.get(k);
    if (hit) {
      this.stats.hits++;
      return fn(hit);
    }
    let flight = this.flights.get(k);
    if (!flight) {
      flight = { promise: this.load(k, keyId, version), refs: 0 };
      this.flights.set(k, flight);
    }
    flight.refs++;
    let material: KeyMaterial | undefined;
    try {
      material = await flight.promise;
      return fn(material);
    } finally {
      if (--flight.refs === 0) material?.dispose();
    }
  }

  invalidate(keyId: string): void {
    this.stats.invalidations++;
    this.generations.set(keyId, (this.generations.get(keyId) ?? 0) + 1);
    this.cache?.invalidate(keyId);
  }

  clear(): void {
    this.clears++;
    this.cache?.clear();
  }

  clearTenant(tenant: string): void {
    this.tenantClears++;
    this.tenantCleared.set(groupOf(tenant), this.tenantClears);
    this.tenantCleared.set(NO_TENANT_ROOT, this.tenantClears);
    this.cache?.invalidateGroup(groupOf(tenant));
    this.cache?.invalidateGroup(NO_TENANT_ROOT);
  }

  private async load(k: string, keyId: string, version: number): Promise<KeyMaterial> {
    const generation = this.generations.get(keyId) ?? 0;
    const clears = this.clears;
    const tenantClears = this.tenantClears;
    try {
      this.stats.loads++;
      let row = await this.read(keyId, version);
      let material: KeyMaterial;
      try {
        material = await this.root.unwrap(row);
      } catch (e) {
        if (!(e instanceof MaterialEpochDestroyedError)) throw e;
        const again = await this.read(keyId, version);
        if (again.epoch === row.epoch) throw e;
        material = await this.root.unwrap(again);
        row = again;
      }
      const group = row.tenantRoot ? groupOf(row.tenantRoot) : NO_TENANT_ROOT;
      const tenantClearedSince = (this.tenantCleared.get(group) ?? 0) > tenantClears;
      if (this.cache && (this.generations.get(keyId) ?? 0) === generation && this.clears === clears && !tenantClearedSince) {
        this.cache.set(k, material.use((b) => KeyMaterial.copyOf(b)), this.root.cacheBoundMs?.(row), group);
      }
      return material;
    } finally {
      // New callers after this point hit the cache (or start a fresh load after an invalidation).
      this.flights.delete(k);
    }
  }

  private async read(keyId: string, version: number): Promise<StoredKek> {
    let row: StoredKek | null;
    try {
      row = await this.store.get(keyId, version);
    } catch {
      throw new DependencyUnavailableError('the key material store');
    }
    if (row === null) throw new MaterialMissingError(keyId, version);
    return row;
  }
}
