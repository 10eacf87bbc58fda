/** SQL shared by the store, the projection runner and rebuilds: the event columns and the readAll query. */
import type { Checkpoint, EventMeta, RecordedEvent } from '../event-store.port';
import type { TransactionContext } from '../event-store.port';

export const EVENT_COLUMNS =
  'global_position::text AS global_position, transaction_id::text AS transaction_id, stream_id, stream_position, ' +
  'event_id::text AS event_id, event_type, schema_version, data, metadata, recorded_at';

export interface EventRow {
  global_position: string;
  transaction_id: string;
  stream_id: string;
  stream_position: number;
  event_id: string;
  event_type: string;
  schema_version: number;
  data: unknown;
  metadata: EventMeta;
  recorded_at: Date;
}

export function toRecordedEvent(r: EventRow): RecordedEvent {
  return {
    globalPosition: r.global_position,
    transactionId: r.transaction_id,
    streamId: r.stream_id,
    streamPosition: r.stream_position,
    eventId: r.event_id,
    type: r.event_type,
    schemaVersion: r.schema_version,
    data: r.data,
    meta: r.metadata,
    recordedAt: r.recorded_at,
  };
}

/**
 * ARCHITECTURE §3: only transactions below the snapshot's xmin are complete, so a transaction that
 * commits late (lower xid, still open) holds readers back instead of being skipped. xmin is cluster-wide:
 * an open transaction in ANY database of the server delays (never skips) events; see waitForReadHorizon.
 */
export function readAllSql(schema: string): string {
  // Qualified names: a bare ORDER BY name would pick the ::text output column and sort '1000' < '999'.
  return `SELECT ${EVENT_COLUMNS} FROM ${schema}.events e
    WHERE e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
      AND (e.transaction_id, e.global_position) > ($1::xid8, $2::bigint)
    ORDER BY e.transaction_id, e.global_position
    LIMIT $3`;
}

export async function readAllIn(tx: TransactionContext, schema: string, after: Checkpoint, limit: number): Promise<RecordedEvent[]> {
  const rows = await tx.query<EventRow>(readAllSql(schema), [after.transactionId, after.globalPosition, limit]);
  return rows.map(toRecordedEvent);
}

export function checkpointOf(e: RecordedEvent): Checkpoint {
  return { transactionId: e.transactionId, globalPosition: e.globalPosition };
}
