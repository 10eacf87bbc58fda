/**
 * KEY_STATE_READER: a key's folded state (readStream + foldKeyEvents) behind a short cache, and alias
 * resolution through the `aliases` projection. The TTL (≤ 500 ms) bounds how stale another replica's
 * change can look even if its invalidation message is lost; local commands invalidate at once.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { EVENT_STORE, quoteIdent, serviceSchema, type EventStore } from '@ekm/event-store';
import { PG_POOL } from '@ekm/service-kit';
import { foldKeyEvents, isExistingKey, type ExistingKeyState } from '../../domain';
import type { KeyStateReader } from '../../application/ports';
import { keyStreamId, toKeyEvent } from '../../application/key-stream';

export const KEY_STATE_CACHE_TTL_MS = 500;
const MAX_CACHED = 10_000;

@Injectable()
export class PgKeyStateReader implements KeyStateReader {
  private readonly s = quoteIdent(serviceSchema('keys'));
  private readonly cache = new Map<string, { state: ExistingKeyState | null; at: number }>();
  private ttlMs = KEY_STATE_CACHE_TTL_MS;
  /** Bumped by every invalidate: a load that started before it must not cache what it read. */
  private generation = 0;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PG_POOL) private readonly pool: Pool,
  ) {}

  /** Tests set 0 to bypass the cache; never above 500 ms (the cross-replica bound). */
  setTtlMs(ms: number): void {
    this.ttlMs = Math.max(0, Math.min(ms, KEY_STATE_CACHE_TTL_MS));
  }

  async load(keyId: string): Promise<ExistingKeyState | null> {
    const hit = this.cache.get(keyId);
    if (hit !== undefined && performance.now() - hit.at < this.ttlMs) return hit.state;
    const at = performance.now();
    const generation = this.generation;
    const state = foldKeyEvents((await this.store.readStream(keyStreamId(keyId))).map(toKeyEvent));
    const found = isExistingKey(state) ? state : null;
    // Unknown ids are not cached: a key created a moment later must be found at once.
    if (found !== null && generation === this.generation) this.remember(keyId, found, at);
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
    this.cache.delete(keyId);
  }

  private remember(keyId: string, state: ExistingKeyState, at: number): void {
    if (this.cache.size >= MAX_CACHED) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(keyId, { state, at });
  }
}
