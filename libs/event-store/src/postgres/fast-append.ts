/**
 * The one-round-trip append for `ExpectedVersion.any` with no command id, inline projection or extra
 * writes (usage records, auth failures): one autocommit statement instead of BEGIN / lock / streams
 * upsert / INSERT / COMMIT, and a named (prepared-once-per-connection) statement so Postgres parses it
 * once.
 *
 * Why the readAll order (xid, global_position) still equals stream order: the statement takes the same
 * per-stream advisory lock first. `l` is scanned by `s`'s INSERT … SELECT, so the lock is granted before
 * the first write of the statement, and that first write (speculative insert or ON CONFLICT row lock on
 * `streams`) is what assigns the transaction's xid; nextval() and the events' DEFAULT
 * pg_current_xact_id() are evaluated for rows joined with `s`, hence later still. The lock is held to
 * commit (autocommit: the end of the statement), so the next appender of the stream gets its xid only
 * after this one committed: xid order = stream order, exactly as in the transactional path.
 * (Without the lock a plain UPDATE assigns the xid in heap_update BEFORE waiting for the row lock, so
 * two appenders could get xids in the opposite order of their positions.) ON CONFLICT DO UPDATE reads
 * the latest committed `streams` row even under a READ COMMITTED snapshot taken before the lock wait.
 */
import type { Pool } from 'pg';
import type { PreparedEvent } from '../append-input';
import type { AppendResult, RecordedEvent } from '../event-store.port';

interface FastRow {
  global_position: string;
  transaction_id: string;
  stream_position: number;
  event_id: string;
  recorded_at: Date;
}

/** SQL of the one-statement append; `$3` = number of events, positions are version - n + ordinality. */
export function fastAppendSql(schema: string): string {
  return `WITH l AS (SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2)) AS locked),
    s AS (INSERT INTO ${schema}.streams (stream_id, version) SELECT $2, $3::int FROM l
          ON CONFLICT (stream_id) DO UPDATE SET version = streams.version + EXCLUDED.version RETURNING version)
    INSERT INTO ${schema}.events (stream_id, stream_position, event_id, event_type, schema_version, data, metadata)
    SELECT $2, s.version - $3::int + u.ord::int, u.id, u.type, u.sv, u.data, u.meta
      FROM s, unnest($4::uuid[], $5::text[], $6::int[], $7::jsonb[], $8::jsonb[]) WITH ORDINALITY AS u(id, type, sv, data, meta, ord)
    RETURNING global_position::text AS global_position, transaction_id::text AS transaction_id, stream_position,
      event_id::text AS event_id, recorded_at`;
}

/** A statement prepared once per connection: its name is unique per schema (and its text fixed). */
export interface FastAppendStatement {
  /** Quoted schema; also the text the advisory lock hashes, as in the transactional path. */
  readonly schema: string;
  readonly name: string;
  readonly text: string;
}

export function fastAppendStatement(quotedSchema: string, service: string): FastAppendStatement {
  return { schema: quotedSchema, name: `ekm_fast_append_${service}`, text: fastAppendSql(quotedSchema) };
}

/** Appends `prepared` to `streamId` in one autocommit statement. */
export async function fastAppend(pool: Pool, st: FastAppendStatement, streamId: string, prepared: readonly PreparedEvent[]): Promise<AppendResult> {
  const n = prepared.length;
  const ids = new Array<string>(n);
  const types = new Array<string>(n);
  const versions = new Array<number>(n);
  const data = new Array<string>(n);
  const meta = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const p = prepared[i];
    ids[i] = p.eventId;
    types[i] = p.type;
    versions[i] = p.schemaVersion;
    data[i] = p.dataJson;
    meta[i] = p.metaJson;
  }
  const { rows } = await pool.query<FastRow>({ name: st.name, text: st.text, values: [st.schema, streamId, n, ids, types, versions, data, meta] });
  // Postgres returns RETURNING rows in insert order, which is ordinality order; map by event id anyway.
  const byId = new Map<string, FastRow>();
  for (const r of rows) byId.set(r.event_id, r);
  const events: RecordedEvent[] = prepared.map((p) => {
    const r = byId.get(p.eventId)!;
    return {
      globalPosition: r.global_position,
      transactionId: r.transaction_id,
      streamId,
      streamPosition: r.stream_position,
      eventId: p.eventId,
      type: p.type,
      schemaVersion: p.schemaVersion,
      data: JSON.parse(p.dataJson) as unknown,
      meta: JSON.parse(p.metaJson) as RecordedEvent['meta'],
      recordedAt: r.recorded_at,
    };
  });
  return { nextExpectedVersion: events[n - 1].streamPosition, events, duplicate: false };
}
