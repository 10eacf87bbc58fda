/**
 * KEY_STATE_READER: a key's folded state (readStream + foldKeyEvents) behind a cache, and alias
 * resolution through the `aliases` projection. Local commands and relayed key events invalidate an
 * entry at once. Beyond KEY_STATE_CACHE_TTL_MS (500 ms, the bound on how stale another replica's change
 * may look) an entry is served only while CacheTrust holds (every relayed lifecycle event seen, a relay
 * heartbeat within 500 ms) and for at most EKM_KEY_STATE_CACHE_MAX_AGE_MS; so a hot working set of any
 * size stays cached, and a lost event, a silent relay or a reconnect costs at most the old 500 ms bound.
 */
import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { Pool } from 'pg';
import type { KeysConfig } from '@ekm/config';
import { EVENT_STORE, quoteIdent, serviceSchema, type EventStore } from '@ekm/event-store';
import { PG_POOL, SERVICE_CONFIG } from '@ekm/service-kit';
import { foldKeyEvents, isExistingKey, type ExistingKeyState } from '../../domain';
import type { KeyStateReader } from '../../application/ports';
import { keyStreamId, toKeyEvent } from '../../application/key-stream';
import { isEntryFresh, KEY_CACHE_TRUST, type CacheTrust } from '../cache/cache-trust';

export const KEY_STATE_CACHE_TTL_MS = 500;

interface Entry {
  readonly state: ExistingKeyState;
  /** performance.now() when the load that read it started. */
  readonly loadedAt: number;
}

@Injectable()
export class PgKeyStateReader implements KeyStateReader {
  private readonly s = quoteIdent(serviceSchema('keys'));
  private readonly cache: LRUCache<string, Entry> | null;
  private readonly maxAgeMs: number;
  private ttlMs = KEY_STATE_CACHE_TTL_MS;
  /** Bumped by every invalidate/clear: a load that started before it must not cache what it read. */
  private generation = 0;
  /** Counters for tests and metrics. */
  readonly stats = { hits: 0, loads: 0 };

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(SERVICE_CONFIG) config: KeysConfig,
    @Inject(KEY_CACHE_TRUST) private readonly trust: CacheTrust,
  ) {
    this.maxAgeMs = Math.max(config.keyStateCache.maxAgeMs, KEY_STATE_CACHE_TTL_MS);
    this.cache = config.keyStateCache.max > 0 ? new LRUCache<string, Entry>({ max: config.keyStateCache.max }) : null;
  }

  /** Tests set 0 to bypass the cache; never above 500 ms (the cross-replica bound without trust). */
  setTtlMs(ms: number): void {
    this.ttlMs = Math.max(0, Math.min(ms, KEY_STATE_CACHE_TTL_MS));
  }

  get size(): number {
    return this.cache?.size ?? 0;
  }

  async load(keyId: string): Promise<ExistingKeyState | null> {
    const now = performance.now();
    if (this.ttlMs > 0) {
      const hit = this.cache?.get(keyId);
      if (hit !== undefined) {
        if (isEntryFresh(hit.loadedAt, now, this.ttlMs, this.maxAgeMs, this.trust.trustedSince())) {
          this.stats.hits++;
          return hit.state;
        }
        this.cache?.delete(keyId);
      }
    }
    const generation = this.generation;
    this.stats.loads++;
    const state = foldKeyEvents((await this.store.readStream(keyStreamId(keyId))).map(toKeyEvent));
    const found = isExistingKey(state) ? state : null;
    // Unknown ids are not cached: a key created a moment later must be found at once.
    if (found !== null && this.ttlMs > 0 && generation === this.generation) this.cache?.set(keyId, { state: found, loadedAt: now });
    return found;
  }

  async resolve(keyIdOrAlias: string): Promise<string | null> {
    if (keyIdOrAlias.startsWith('alias/')) {
      const { rows } = await this.pool.query<{ key_id: string }>(`SELECT key_id FROM ${this.s}.aliases WHERE alias = $1`, [keyIdOrAlias]);
      return rows[0]?.key_id ?? null;
    }
    return (await this.load(keyIdOrAlias)) === null ? null : keyIdOrAlias;
  }

  invalidate(keyId: string): void {
    this.generation++;
    this.cache?.delete(keyId);
  }

  /** Drops every entry (a relayed event may have been missed). */
  clear(): void {
    this.generation++;
    this.cache?.clear();
  }
}
