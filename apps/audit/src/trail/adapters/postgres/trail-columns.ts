/**
 * The trail's query columns. They are plain columns written with the row from the entry the appender
 * built (no JSON re-parsing per insert), so they are a copy of what the chain covers, not covered by it
 * themselves: verify recomputes each from the stored entry (`COLUMNS_MATCH_SQL`, the expressions the
 * columns were once GENERATED from, so rows written before and after the change are checked alike) and
 * reports a row whose columns differ from its entry as edited.
 */
import type { AuditEntry } from '../../domain/audit-entry';

export const TRAIL_COLUMNS = [
  'time_ms', 'category', 'action', 'outcome', 'principal', 'tenant', 'key_id', 'key_version',
  'source_service', 'source_event_id', 'source_stream_id', 'source_stream_position', 'source_item',
] as const;

/** Postgres array types of the columns, in TRAIL_COLUMNS order (for `unnest`). */
export const TRAIL_COLUMN_TYPES = ['bigint', 'text', 'text', 'text', 'text', 'text', 'text', 'int', 'text', 'text', 'text', 'int', 'int'] as const;

export type TrailColumnValue = string | number | null;

/** The column values of `entry`, in TRAIL_COLUMNS order. */
export function trailColumns(entry: AuditEntry): TrailColumnValue[] {
  const src = entry.source as Partial<AuditEntry['source']>;
  return [
    entry.timeMs, entry.category, entry.action, entry.outcome, entry.actor.principal, entry.tenant ?? null, entry.keyId ?? null, entry.keyVersion ?? null,
    src.service ?? null, src.eventId ?? null, src.streamId ?? null, src.streamPosition ?? null, src.item ?? 0,
  ];
}

const j = (path: string): string => `(entry::jsonb ${path})`;

/** Each column recomputed from `entry` in SQL, in TRAIL_COLUMNS order. */
export const FROM_ENTRY_SQL: readonly string[] = [
  `${j("->> 'timeMs'")}::bigint`, j("->> 'category'"), j("->> 'action'"), j("->> 'outcome'"), j("-> 'actor' ->> 'principal'"), j("->> 'tenant'"),
  j("->> 'keyId'"), `${j("->> 'keyVersion'")}::int`, j("-> 'source' ->> 'service'"), j("-> 'source' ->> 'eventId'"), j("-> 'source' ->> 'streamId'"),
  `${j("-> 'source' ->> 'streamPosition'")}::int`, `coalesce(${j("-> 'source' ->> 'item'")}::int, 0)`,
];

/** A boolean SQL expression: the row's columns are exactly what its entry says. */
export const COLUMNS_MATCH_SQL = `((${TRAIL_COLUMNS.join(', ')}) IS NOT DISTINCT FROM (${FROM_ENTRY_SQL.join(', ')}))`;
