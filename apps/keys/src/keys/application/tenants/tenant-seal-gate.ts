/**
 * TENANT_SEAL_GATE: the seal state of a tenant, folded from its `tenant-<tenant>` stream, cached for at
 * most TENANT_SEAL_TTL_MS. The cache is the second line: every replica also drops a tenant's entry when
 * the relayed TenantSealed/TenantUnsealed reaches it (KeyEventInvalidator), so a seal normally bites at
 * relay latency, and at worst (message lost) after the TTL. A read that fails throws
 * DependencyUnavailableError: the request is refused, never served as "open".
 */
import type { EventStore } from '@ekm/event-store';
import { foldTenantSeal, tenantStreamId, type TenantSealEvent, type TenantSealState } from '../../domain/tenant-seal';
import { DependencyUnavailableError } from '../dependency-unavailable';
import { TENANT_SEAL_TTL_MS, type TenantSealGate } from './tenant-seal.ports';

const MAX_CACHED = 10_000;

export class StreamTenantSealGate implements TenantSealGate {
  private readonly cache = new Map<string, { sealed: boolean; at: number }>();
  /** Bumped by every invalidate: a read that started before must not cache what it read. */
  private generation = 0;
  readonly stats = { reads: 0, invalidations: 0 };

  constructor(
    private readonly store: EventStore,
    private readonly ttlMs = TENANT_SEAL_TTL_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  isSealed(tenant: string): boolean | Promise<boolean> {
    const hit = this.cache.get(tenant);
    if (hit !== undefined && this.now() - hit.at < this.ttlMs) return hit.sealed;
    return this.load(tenant);
  }

  private async load(tenant: string): Promise<boolean> {
    // The age counts from before the read: an answer is never older than the TTL at its last use.
    const at = this.now();
    const generation = this.generation;
    const state = await this.read(tenant);
    const sealed = state.status === 'Sealed';
    if (generation === this.generation) {
      if (this.cache.size >= MAX_CACHED) {
        const oldest = this.cache.keys().next();
        if (!oldest.done) this.cache.delete(oldest.value);
      }
      this.cache.delete(tenant);
      this.cache.set(tenant, { sealed, at });
    }
    return sealed;
  }

  invalidate(tenant: string): void {
    this.stats.invalidations++;
    this.generation++;
    this.cache.delete(tenant);
  }

  /** The folded state and the stream version (for the seal commands' compare-and-set). */
  async read(tenant: string): Promise<TenantSealState & { version: number }> {
    this.stats.reads++;
    let events;
    try {
      events = await this.store.readStream(tenantStreamId(tenant));
    } catch {
      throw new DependencyUnavailableError('the tenant seal state');
    }
    const state = foldTenantSeal(tenant, events.map((e) => ({
      event: { type: e.type, data: e.data, meta: e.meta } as TenantSealEvent, recordedAt: e.recordedAt.toISOString(), position: e.streamPosition,
    })));
    return { ...state, version: events.at(-1)?.streamPosition ?? 0 };
  }
}
