/** The relay checkpoint row: read, and compare-and-set guarded by the fencing token and by order. */
import type { Pool } from 'pg';
import type { Checkpoint } from '../event-store.port';
import { quoteIdent } from '../postgres/service-schema';
import { RelayCheckpointNotForwardError, RelayLeaseLostError } from './relay.errors';

export interface RelayRow {
  readonly checkpoint: Checkpoint;
  readonly holder: string | null;
  readonly fencing: string;
  readonly heartbeatAt: Date | null;
  readonly published: string;
}

export const formatCheckpoint = (c: Checkpoint): string => `(${c.transactionId}, ${c.globalPosition})`;

export async function readRelayRow(pool: Pool, schema: string): Promise<RelayRow> {
  const { rows } = await pool.query<{ tx: string; gp: string; holder: string | null; fencing: string; heartbeat_at: Date | null; published: string }>(
    `SELECT transaction_id::text AS tx, global_position::text AS gp, holder, fencing::text AS fencing, heartbeat_at, published::text AS published
       FROM ${quoteIdent(schema)}.outbox_relay WHERE name = 'outbox'`,
  );
  const r = rows[0];
  if (!r) throw new Error(`${schema}.outbox_relay has no 'outbox' row: run the relay migration`);
  return { checkpoint: { transactionId: r.tx, globalPosition: r.gp }, holder: r.holder, fencing: r.fencing, heartbeatAt: r.heartbeat_at, published: r.published };
}

/** Moves the checkpoint to `next` if we still hold the lease and `next` is strictly ahead. */
export async function advanceCheckpoint(pool: Pool, schema: string, fencing: string, next: Checkpoint, published: number): Promise<void> {
  const res = await pool.query(
    `UPDATE ${quoteIdent(schema)}.outbox_relay
        SET transaction_id = $1::xid8, global_position = $2::bigint, published = published + $4, updated_at = now()
      WHERE name = 'outbox' AND fencing = $3::bigint AND (transaction_id, global_position) < ($1::xid8, $2::bigint)`,
    [next.transactionId, next.globalPosition, fencing, published],
  );
  if (res.rowCount === 1) return;
  const row = await readRelayRow(pool, schema);
  if (row.fencing !== fencing) throw new RelayLeaseLostError(schema, fencing, row.fencing);
  throw new RelayCheckpointNotForwardError(schema, formatCheckpoint(row.checkpoint), formatCheckpoint(next));
}

/** Committed events after the checkpoint (the relay's lag). */
export async function countAfter(pool: Pool, schema: string, c: Checkpoint): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM ${quoteIdent(schema)}.events WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)`,
    [c.transactionId, c.globalPosition],
  );
  return Number(rows[0].n);
}
