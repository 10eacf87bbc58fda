/**
 * The key projection (`keys`, `key_versions`, `aliases`), used inline (same transaction as the append:
 * read-your-writes for list/resolve) and by `rebuildProjection` (which may use the deferred-write
 * RebuildKeyProjection, ./key-projection.rebuild.ts). Rather than one SQL statement per event
 * type, each run of consecutive events of one key stream is folded with the domain's own `evolve` and
 * the key's rows are rewritten from the folded state: live and rebuilt rows are equal by construction.
 */
import type { Projection, RecordedEvent, TransactionContext } from '@ekm/event-store';
import { quoteIdent, serviceSchema } from '@ekm/event-store';
import { foldKeyEvents, isExistingKey, type ExistingKeyState, type KeyEvent, type KeyState } from '../../domain';
import { KEY_STREAM_PREFIX, keyStreamId, toKeyEvent } from '../../application/key-stream';
import { AliasTakenError } from '../../application/key-store.errors';

export { AliasTakenError };

export const KEY_PROJECTION_NAME = 'keys-projection';

interface EventRow { event_type: string; data: unknown; metadata: unknown }
/** Bound on the folded states kept per transaction (~1 KB each); past it a rebuild reads prefixes again. */
const MAX_CACHED_STREAMS = 250_000;
/** A key's state after its last run in a batch, with what its `keys` row records of that run. */
export interface Folded { readonly state: KeyState; readonly position: number; readonly recordedAt: Date }

export class KeyProjection implements Projection {
  readonly name = KEY_PROJECTION_NAME;
  private readonly s: string;
  private readonly folded = new WeakMap<TransactionContext, Map<string, Folded>>();

  constructor(service = 'keys') {
    this.s = quoteIdent(serviceSchema(service));
  }

  async reset(tx: TransactionContext): Promise<void> {
    await tx.query(`DELETE FROM ${this.s}.aliases`);
    await tx.query(`DELETE FROM ${this.s}.key_versions`);
    await tx.query(`DELETE FROM ${this.s}.keys`);
  }

  async apply(tx: TransactionContext, events: readonly RecordedEvent[]): Promise<void> {
    const folded = await this.fold(tx, events);
    if (folded === null) return;
    // Only each key's state after the batch is written: rows of earlier runs would be overwritten anyway.
    const rows = [...folded.touched.values()].filter(isExisting);
    if (rows.length > 0) await this.write(tx, rows, folded.written);
  }

  /**
   * Folds the key-stream runs of `events` onto this transaction's cached states: the keys the batch
   * touched (in the order of each key's LAST run, the order rows are written in), with the state this
   * transaction last wrote for each (none when first seen here). Null when no key stream is in the batch.
   */
  protected async fold(tx: TransactionContext, events: readonly RecordedEvent[]): Promise<{ touched: Map<string, Folded>; written: Map<string, KeyState | undefined> } | null> {
    const runs = runsOfKeyStreams(events);
    if (runs.length === 0) return null;
    const cache = this.cacheOf(tx);
    // Streams that continue a part of the log this transaction has not folded: their prefixes, in ONE query.
    const prefixes = await this.readPrefixes(tx, runs, cache);
    const touched = new Map<string, Folded>();
    const written = new Map<string, KeyState | undefined>();
    for (const run of runs) {
      const first = run[0];
      const last = run[run.length - 1];
      const known = cache.get(first.streamId);
      const prefix = prefixes.get(first.streamId);
      let state: KeyState;
      if (known !== undefined && known.position === first.streamPosition - 1) state = foldKeyEvents(run.map(toKeyEvent), known.state);
      else if (first.streamPosition === 1) state = foldKeyEvents(run.map(toKeyEvent));
      else if (prefix !== undefined && prefix.length === first.streamPosition - 1) state = foldKeyEvents(run.map(toKeyEvent), foldKeyEvents(prefix));
      else state = foldKeyEvents(await this.readPrefix(tx, first.streamId, last.streamPosition));
      prefixes.delete(first.streamId);
      if (!written.has(first.streamId)) written.set(first.streamId, known?.state);
      const f: Folded = { state, position: last.streamPosition, recordedAt: last.recordedAt };
      cache.set(first.streamId, f);
      touched.delete(first.streamId);
      touched.set(first.streamId, f);
    }
    if (cache.size > MAX_CACHED_STREAMS) cache.clear();
    return { touched, written };
  }

  /**
   * Folded states by stream for this transaction: a rebuild passes one transaction to every batch, so a
   * stream folded in an earlier batch is not read again. Events are immutable and the states die with the
   * transaction (a rolled-back append takes its cache with it), so a cached state is never stale.
   */
  private cacheOf(tx: TransactionContext): Map<string, Folded> {
    let cache = this.folded.get(tx);
    if (cache === undefined) this.folded.set(tx, (cache = new Map()));
    return cache;
  }

  /** Events before each stream's first run in the batch (when it does not start the stream), by stream. */
  private async readPrefixes(tx: TransactionContext, runs: readonly RecordedEvent[][], cache: ReadonlyMap<string, Folded>): Promise<Map<string, KeyEvent[]>> {
    const upTo = new Map<string, number>();
    for (const run of runs) {
      const first = run[0];
      if (upTo.has(first.streamId)) continue;
      const known = cache.get(first.streamId);
      upTo.set(first.streamId, known !== undefined && known.position === first.streamPosition - 1 ? 0 : first.streamPosition - 1);
    }
    const wanted = [...upTo].filter(([, n]) => n > 0);
    const out = new Map<string, KeyEvent[]>();
    if (wanted.length === 0) return out;
    const rows = await tx.query<EventRow & { stream_id: string }>(
      `SELECT e.stream_id, e.event_type, e.data, e.metadata
         FROM unnest($1::text[], $2::int[]) AS w(stream_id, up_to)
         JOIN ${this.s}.events e ON e.stream_id = w.stream_id AND e.stream_position <= w.up_to
        ORDER BY e.stream_id, e.stream_position`,
      [wanted.map(([id]) => id), wanted.map(([, n]) => n)],
    );
    for (const r of rows) {
      let list = out.get(r.stream_id);
      if (list === undefined) out.set(r.stream_id, (list = []));
      list.push({ type: r.event_type, data: r.data, meta: r.metadata } as KeyEvent);
    }
    return out;
  }

  private async readPrefix(tx: TransactionContext, streamId: string, upTo: number): Promise<KeyEvent[]> {
    const rows = await tx.query<EventRow>(
      `SELECT event_type, data, metadata FROM ${this.s}.events WHERE stream_id = $1 AND stream_position <= $2 ORDER BY stream_position`,
      [streamId, upTo],
    );
    return rows.map((r) => ({ type: r.event_type, data: r.data, meta: r.metadata }) as KeyEvent);
  }

  /**
   * The rows of every key in `keys`, set-based: one statement per table whatever the number of keys.
   * `key_versions` and `aliases` rows are rewritten only for keys whose versions, primary or aliases
   * differ from the state this transaction last wrote (evolve replaces those collections when they
   * change, so identity says unchanged); a key not written before in this transaction gets all its rows.
   */
  protected async write(
    tx: TransactionContext, keys: readonly (Folded & { state: ExistingKeyState })[], written: ReadonlyMap<string, KeyState | undefined>, opts: { aliases?: boolean } = {},
  ): Promise<void> {
    const col = <T>(f: (k: ExistingKeyState, x: Folded) => T): T[] => keys.map((x) => f(x.state, x));
    await tx.query(
      `INSERT INTO ${this.s}.keys (id, tenant, status, spec, usage, origin, description, tags, required_context, primary_version,
         rotation_enabled, rotation_period_days, next_rotation_at, last_rotated_at, deletion_date, revoked_at, destroyed_at,
         created_at, updated_at, stream_version)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::jsonb[],
         $10::int[], $11::boolean[], $12::int[], $13::timestamptz[], $14::timestamptz[], $15::timestamptz[], $16::timestamptz[],
         $17::timestamptz[], $18::timestamptz[], $19::timestamptz[], $20::int[])
       ON CONFLICT (id) DO UPDATE SET tenant = EXCLUDED.tenant, status = EXCLUDED.status, spec = EXCLUDED.spec,
         usage = EXCLUDED.usage, origin = EXCLUDED.origin, description = EXCLUDED.description, tags = EXCLUDED.tags,
         required_context = EXCLUDED.required_context, primary_version = EXCLUDED.primary_version,
         rotation_enabled = EXCLUDED.rotation_enabled, rotation_period_days = EXCLUDED.rotation_period_days,
         next_rotation_at = EXCLUDED.next_rotation_at, last_rotated_at = EXCLUDED.last_rotated_at,
         deletion_date = EXCLUDED.deletion_date, revoked_at = EXCLUDED.revoked_at, destroyed_at = EXCLUDED.destroyed_at,
         created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, stream_version = EXCLUDED.stream_version`,
      [
        col((k) => k.keyId), col((k) => k.tenant), col((k) => k.status), col((k) => k.spec), col((k) => k.usage), col((k) => k.origin),
        col((k) => k.description), col((k) => JSON.stringify(k.tags)), col((k) => JSON.stringify(k.requiredContext)), col((k) => k.primary),
        col((k) => k.rotation.enabled), col((k) => (k.rotation.enabled ? k.rotation.periodDays : null)),
        col((k) => (k.rotation.enabled ? k.rotation.nextRotationAt : null)), col((k) => k.lastRotatedAt), col((k) => k.deletion?.deletionDate ?? null),
        col((k) => k.revocation?.revokedAt ?? null), col((k) => k.destroyedAt), col((k) => k.createdAt), col((_, x) => x.recordedAt), col((_, x) => x.position),
      ],
    );
    const before = (k: ExistingKeyState): ExistingKeyState | undefined => {
      const w = written.get(keyStreamId(k.keyId));
      return w !== undefined && isExistingKey(w) ? w : undefined;
    };
    const versionsChanged = keys.filter(({ state: k }) => { const b = before(k); return b === undefined || b.versions !== k.versions || b.primary !== k.primary; });
    if (versionsChanged.length > 0) await tx.query(`DELETE FROM ${this.s}.key_versions WHERE key_id = ANY($1::text[])`, [versionsChanged.map(({ state: k }) => k.keyId)]);
    const versions = versionsChanged.flatMap(({ state: k }) => [...k.versions.values()].map((v) => ({ k, v })));
    if (versions.length > 0) {
      await tx.query(
        `INSERT INTO ${this.s}.key_versions (key_id, version, status, is_primary, fingerprint, origin, created_at)
         SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::boolean[], $5::text[], $6::text[], $7::timestamptz[])`,
        [versions.map(({ k }) => k.keyId), versions.map(({ v }) => v.version), versions.map(({ v }) => v.status), versions.map(({ k, v }) => v.version === k.primary),
          versions.map(({ v }) => v.fingerprint), versions.map(({ v }) => v.origin), versions.map(({ v }) => v.createdAt)],
      );
    }
    if (opts.aliases !== false) await this.writeChangedAliases(tx, keys, written);
  }

  protected async writeChangedAliases(tx: TransactionContext, keys: readonly (Folded & { state: ExistingKeyState })[], written: ReadonlyMap<string, KeyState | undefined>): Promise<void> {
    const aliasesChanged = keys.filter(({ state: k }) => {
      const w = written.get(keyStreamId(k.keyId));
      return !(w !== undefined && isExistingKey(w) && w.aliases === k.aliases);
    });
    if (aliasesChanged.length === 0) return;
    await this.writeAliases(tx, aliasesChanged.map(({ state: k }) => k.keyId), aliasesChanged.flatMap(({ state: k }) => [...k.aliases].map((alias) => ({ alias, keyId: k.keyId }))));
  }

  /**
   * Aliases of `keyIds` become exactly `wanted`: first every alias they no longer hold is dropped (so an
   * alias moved between two keys of one batch is free), then the wanted ones are inserted; one held by
   * another key fails the whole transaction.
   */
  private async writeAliases(tx: TransactionContext, keyIds: readonly string[], wanted: readonly { alias: string; keyId: string }[]): Promise<void> {
    const aliases = wanted.map((w) => w.alias);
    const owners = wanted.map((w) => w.keyId);
    await tx.query(
      `DELETE FROM ${this.s}.aliases a WHERE a.key_id = ANY($1::text[])
         AND NOT EXISTS (SELECT 1 FROM unnest($2::text[], $3::text[]) AS w(alias, key_id) WHERE w.alias = a.alias AND w.key_id = a.key_id)`,
      [keyIds, aliases, owners],
    );
    if (wanted.length === 0) return;
    await tx.query(`INSERT INTO ${this.s}.aliases (alias, key_id) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (alias) DO NOTHING`, [aliases, owners]);
    // The rows of the wanted aliases by primary key, compared here: a join with the unnest (planned as a
    // 100-row guess) was a nested loop that took seconds for the thousands of aliases of a rebuild.
    const held = await tx.query<{ alias: string; key_id: string }>(`SELECT alias, key_id FROM ${this.s}.aliases WHERE alias = ANY($1::text[])`, [aliases]);
    const owner = new Map(wanted.map((w) => [w.alias, w.keyId]));
    const taken = held.filter((r) => owner.get(r.alias) !== r.key_id).sort((a, b) => (a.alias < b.alias ? -1 : 1));
    if (taken.length > 0) throw new AliasTakenError(taken[0].alias, taken[0].key_id);
  }
}

export type FoldedKey = Folded & { state: ExistingKeyState };
export const isExisting = (f: Folded): f is FoldedKey => f.state.status !== 'Absent';

/** Consecutive events of the same key stream, in log order (other streams, e.g. usage-*, skipped). */
function runsOfKeyStreams(events: readonly RecordedEvent[]): RecordedEvent[][] {
  const runs: RecordedEvent[][] = [];
  for (const e of events) {
    if (!e.streamId.startsWith(KEY_STREAM_PREFIX)) continue;
    const current = runs[runs.length - 1];
    if (current !== undefined && current[0].streamId === e.streamId) current.push(e);
    else runs.push([e]);
  }
  return runs;
}
