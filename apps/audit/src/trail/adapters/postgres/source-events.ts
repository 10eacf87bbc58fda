/** Reads source events straight from `ekm_<service>.events` (read-only grant, see source-grants.ts). */
import { quoteIdent, serviceSchema, type EventEnvelope } from '@ekm/event-store';
import type { SourceEvent } from '../../domain/audit-entry';

export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

interface Row {
  event_id: string;
  event_type: string;
  stream_id: string;
  stream_position: number;
  global_position: string;
  transaction_id: string;
  recorded_at: Date;
  data: unknown;
  metadata: SourceEvent['meta'];
}

const COLUMNS = 'event_id::text, event_type, stream_id, stream_position, global_position::text, transaction_id::text, recorded_at, data, metadata';

export const rowToSource = (service: string, r: Row): SourceEvent & { transactionId: string } => ({
  service, eventId: r.event_id, type: r.event_type, streamId: r.stream_id, streamPosition: r.stream_position,
  globalPosition: r.global_position, transactionId: r.transaction_id, recordedAt: r.recorded_at.toISOString(), data: r.data, meta: r.metadata,
});

export function envelopeToSource(service: string, e: EventEnvelope): SourceEvent {
  return { service, eventId: e.eventId, type: e.type, streamId: e.streamId, streamPosition: e.streamPosition, globalPosition: e.globalPosition, recordedAt: e.recordedAt, data: e.data, meta: e.meta };
}

/** Positions `from..to` (inclusive) of one stream, in order. */
export async function readStreamRange(q: Queryable, service: string, streamId: string, from: number, to: number): Promise<SourceEvent[]> {
  const { rows } = await q.query<Row>(
    `SELECT ${COLUMNS} FROM ${quoteIdent(serviceSchema(service))}.events WHERE stream_id = $1 AND stream_position BETWEEN $2 AND $3 ORDER BY stream_position`,
    [streamId, from, to],
  );
  return rows.map((r) => rowToSource(service, r));
}

/** Committed events after a (transaction id, global position) checkpoint, in commit order (ARCHITECTURE §3). */
export async function readSourceAfter(q: Queryable, service: string, after: { transactionId: string; globalPosition: string }, limit: number): Promise<(SourceEvent & { transactionId: string })[]> {
  const s = quoteIdent(serviceSchema(service));
  const { rows } = await q.query<Row>(
    `SELECT ${COLUMNS} FROM ${s}.events e WHERE e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
       AND (e.transaction_id, e.global_position) > ($1::xid8, $2::bigint) ORDER BY e.transaction_id, e.global_position LIMIT $3`,
    [after.transactionId, after.globalPosition, limit],
  );
  return rows.map((r) => rowToSource(service, r));
}
