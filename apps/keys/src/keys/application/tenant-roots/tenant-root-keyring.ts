/**
 * Wraps KEK versions under their tenant's root key (TRK) inside the epoch wrap, and opens them:
 *   stored = epoch-wrap(KWP_TRK(KEK)),   TRK row = epoch-wrap(payload)   (see tenant-root.ports.ts)
 * The epoch roller needs no TRK (it re-wraps the outer layer only), so a tenant whose external root is
 * cut never stops an epoch roll, and a destroy still ends the epoch for every tenant.
 *
 * Rows with no `tenantRoot` (written before tenant roots existed) open as before, under the epoch alone.
 *
 * Unwrapped TRKs are cached (bounded entries, zeroed on eviction): a local one for `localTtlMs`, an
 * external one for `externalTtlMs` (EKM_XKS_CACHE_MS), and every KEK opened through an external root may
 * stay cached only until that root's entry expires (`cacheBoundMs`), so a revocation at the external KMS
 * cuts the tenant within that bound. Concurrent misses of one tenant share one load (one external Decrypt).
 */
import { KeyMaterial, kwpUnwrap, kwpWrap, UnwrapFailedError, UnwrappedKeyCache } from '@ekm/crypto';
import type { EpochKeyring } from '../epochs/epoch-keyring';
import type { StoredKek, WrappedKek } from '../epochs/epoch.ports';
import { decodeRoot, encodeExternalRoot, encodeLocalRoot } from './tenant-root.payload';
import {
  ExternalEndpointNotAllowedError, ExternalKeyUnavailableError, TenantRootMissingError, type ExternalKms, type ExternalRootTarget, type TenantRootInfo, type TenantRootStore,
} from './tenant-root.ports';

export const TENANT_ROOT_KEYRING = Symbol('TENANT_ROOT_KEYRING');

export interface TenantRootKeyringOptions {
  readonly localTtlMs: number;
  /** EKM_XKS_CACHE_MS: the longest an external root (and any KEK opened through it) stays usable after the external KMS stops answering. */
  readonly externalTtlMs: number;
  readonly maxEntries: number;
  readonly now?: () => number;
}


export class TenantRootKeyring {
  private readonly cache: UnwrappedKeyCache;
  private readonly expiries = new Map<string, number>();
  private readonly flights = new Map<string, { readonly promise: Promise<KeyMaterial>; refs: number }>();
  private readonly generations = new Map<string, number>();
  private readonly now: () => number;

  constructor(
    private readonly epochs: EpochKeyring,
    private readonly store: TenantRootStore,
    private readonly external: ExternalKms,
    private readonly opts: TenantRootKeyringOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.cache = new UnwrappedKeyCache({ ttlMs: Math.max(1, opts.localTtlMs, opts.externalTtlMs), maxEntries: Math.max(1, opts.maxEntries), now: this.now });
  }

  /** See EpochKeyring.retryOnEpochMove: wrap-and-store again when the epoch moved in between. */
  retryOnEpochMove<T>(fn: () => Promise<T>): Promise<T> {
    return this.epochs.retryOnEpochMove(fn);
  }

  /** A fresh KEK (from the root of trust's RNG) wrapped under `tenant`'s root (created on its first key) and the current epoch. */
  async generateKek(tenant: string): Promise<{ material: KeyMaterial; wrapped: WrappedKek }> {
    const { material } = await this.epochs.generateKek();
    try {
      return { material, wrapped: await this.wrap(material, tenant) };
    } catch (e) {
      material.dispose();
      throw e;
    }
  }

  async wrap(material: KeyMaterial, tenant: string): Promise<WrappedKek> {
    const inner = await this.withTrk(tenant, true, (trk) => trk.use((t) => material.use((m) => kwpWrap(t, m))));
    const innerMaterial = KeyMaterial.adopt(inner);
    try {
      return { ...(await this.epochs.wrap(innerMaterial)), tenantRoot: tenant };
    } finally {
      innerMaterial.dispose();
    }
  }

  /** Opens a stored KEK row: the epoch layer, then (when the row names one) its tenant's root. */
  async unwrap(row: StoredKek): Promise<KeyMaterial> {
    const outer = await this.epochs.unwrap(row);
    if (row.tenantRoot == null) return outer;
    try {
      const kek = await this.withTrk(row.tenantRoot, false, (trk) => trk.use((t) => outer.use((w) => {
        try {
          return kwpUnwrap(t, w);
        } catch {
          throw new UnwrapFailedError(); // an edited row, or a row moved from another tenant
        }
      })));
      return KeyMaterial.adopt(kek);
    } finally {
      outer.dispose();
    }
  }

  /** A KEK opened through an external root is cached no longer than that root's own entry. */
  cacheBoundMs(row: StoredKek): number | undefined {
    if (row.tenantRoot == null) return undefined;
    const until = this.expiries.get(row.tenantRoot);
    return until === undefined ? undefined : Math.max(0, until - this.now());
  }

  /**
   * Moves `tenant`'s root into the external KMS: the same TRK (so no KEK is re-wrapped), now stored only
   * as that KMS's ciphertext. Encrypt and then Decrypt are both tried before anything is stored, so bad
   * credentials or a key they cannot use change nothing. The old payload is left to the epoch roll this requests.
   */
  async setExternal(tenant: string, target: ExternalRootTarget): Promise<TenantRootInfo> {
    if (!this.external.allows(target.endpoint)) throw new ExternalEndpointNotAllowedError();
    return this.retryOnEpochMove(async () => {
      await this.ensureRoot(tenant);
      const generation = this.bump(tenant);
      const ciphertext = await this.withTrk(tenant, false, async (trk) => {
        const ct = await this.external.encrypt(tenant, target, trk);
        const back = await this.external.decrypt(tenant, target, ct);
        try {
          if (!back.equals(trk)) throw new ExternalKeyUnavailableError(tenant, 'INVALID_RESPONSE');
        } finally {
          back.dispose();
        }
        return ct;
      });
      const payload = KeyMaterial.adopt(encodeExternalRoot(tenant, target, ciphertext));
      try {
        const wrapped = await this.epochs.wrap(payload);
        await this.store.replace(tenant, wrapped, 'SetTenantRootExternal');
        this.forgetIf(tenant, generation);
        return { tenant, kind: 'EXTERNAL', epoch: wrapped.epoch, external: { endpoint: target.endpoint, region: target.region, keyId: target.keyId } };
      } finally {
        payload.dispose();
      }
    });
  }

  /** What kind of root the tenant has and where it lives (never credentials). Opens only the epoch layer. */
  async describe(tenant: string): Promise<TenantRootInfo> {
    const row = await this.store.get(tenant);
    if (row === null) return { tenant, kind: 'NONE' };
    const payload = await this.epochs.unwrap(row);
    try {
      const p = payload.use((b) => decodeRoot(tenant, b));
      if (p.kind === 'LOCAL') {
        p.trk.fill(0);
        return { tenant, kind: 'LOCAL', epoch: row.epoch };
      }
      const { endpoint, region, keyId } = p.target;
      return { tenant, kind: 'EXTERNAL', epoch: row.epoch, external: { endpoint, region, keyId } };
    } finally {
      payload.dispose();
    }
  }

  /** Drops the tenant's cached root (zeroed); KEKs opened through it keep their own bound. */
  forget(tenant: string): void {
    this.bump(tenant);
  }

  private bump(tenant: string): number {
    const g = (this.generations.get(tenant) ?? 0) + 1;
    this.generations.set(tenant, g);
    this.cache.invalidate(tenant);
    this.expiries.delete(tenant);
    return g;
  }

  private forgetIf(tenant: string, generation: number): void {
    if ((this.generations.get(tenant) ?? 0) === generation) this.bump(tenant);
  }

  private async withTrk<T>(tenant: string, create: boolean, fn: (trk: KeyMaterial) => T | Promise<T>): Promise<T> {
    const hit = this.cache.get(tenant);
    if (hit) return fn(hit);
    let flight = this.flights.get(tenant);
    if (!flight) {
      const f = { promise: this.load(tenant, create).finally(() => this.flights.delete(tenant)), refs: 0 };
      this.flights.set(tenant, f);
      flight = f;
    }
    flight.refs++;
    let mine: KeyMaterial;
    try {
      // Each waiter gets its own copy: the cache owns (and may evict) the one it holds; the last waiter zeroes the flight's.
      const trk = await flight.promise;
      mine = trk.use((b) => KeyMaterial.copyOf(b));
      if (flight.refs === 1) trk.dispose();
    } finally {
      flight.refs--;
    }
    try {
      return await fn(mine);
    } finally {
      mine.dispose();
    }
  }

  /** Loads (and caches a copy of) the tenant's TRK; the returned material belongs to the flight's waiters. */
  private async load(tenant: string, create: boolean): Promise<KeyMaterial> {
    const generation = this.generations.get(tenant) ?? 0;
    let row = await this.store.get(tenant);
    if (row === null) {
      if (!create) throw new TenantRootMissingError(tenant);
      row = await this.createRoot(tenant);
    }
    const payload = await this.epochs.unwrap(row);
    let trk: KeyMaterial;
    let ttl: number;
    try {
      const p = payload.use((b) => decodeRoot(tenant, b));
      if (p.kind === 'LOCAL') {
        trk = KeyMaterial.adopt(p.trk);
        ttl = this.opts.localTtlMs;
      } else {
        trk = await this.external.decrypt(tenant, p.target, p.ciphertext);
        ttl = this.opts.externalTtlMs;
        if (trk.length !== 32) {
          trk.dispose();
          throw new ExternalKeyUnavailableError(tenant, 'INVALID_RESPONSE');
        }
      }
    } finally {
      payload.dispose();
    }
    const copy = trk.use((b) => KeyMaterial.copyOf(b));
    if (ttl > 0 && (this.generations.get(tenant) ?? 0) === generation) {
      this.cache.set(tenant, trk, ttl);
      this.expiries.set(tenant, this.now() + ttl);
    } else {
      trk.dispose();
      this.expiries.delete(tenant);
    }
    return copy;
  }

  private async ensureRoot(tenant: string): Promise<void> {
    if ((await this.store.get(tenant)) === null) await this.createRoot(tenant);
  }

  private async createRoot(tenant: string): Promise<StoredKek> {
    return this.retryOnEpochMove(async () => {
      const { material } = await this.epochs.generateKek();
      let payload: KeyMaterial | undefined;
      try {
        payload = KeyMaterial.adopt(material.use((b) => encodeLocalRoot(b)));
        await this.store.create(tenant, await this.epochs.wrap(payload));
      } finally {
        material.dispose();
        payload?.dispose();
      }
      const row = await this.store.get(tenant);
      if (row === null) throw new TenantRootMissingError(tenant);
      return row;
    });
  }
}
