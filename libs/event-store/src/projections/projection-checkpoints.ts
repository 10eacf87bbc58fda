/** The `projection_checkpoints` row of a projection: created at START, moved only by compare-and-set. */
import { START, type Checkpoint, type TransactionContext } from '../event-store.port';

interface CheckpointRow {
  transaction_id: string;
  global_position: string;
}

export async function loadCheckpoint(q: TransactionContext, schema: string, name: string, forUpdate = false): Promise<Checkpoint> {
  await q.query(
    `INSERT INTO ${schema}.projection_checkpoints (name, transaction_id, global_position) VALUES ($1, $2::xid8, $3) ON CONFLICT (name) DO NOTHING`,
    [name, START.transactionId, START.globalPosition],
  );
  const rows = await q.query<CheckpointRow>(
    `SELECT transaction_id::text AS transaction_id, global_position::text AS global_position
       FROM ${schema}.projection_checkpoints WHERE name = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [name],
  );
  return { transactionId: rows[0].transaction_id, globalPosition: rows[0].global_position };
}

/**
 * Moves the checkpoint from `from` to `to` if nobody moved it meanwhile and `to` is ahead.
 * The UPDATE row-locks the checkpoint, so a concurrent runner waits here, then finds it moved.
 */
export async function advanceCheckpoint(q: TransactionContext, schema: string, name: string, from: Checkpoint, to: Checkpoint): Promise<boolean> {
  const rows = await q.query(
    `UPDATE ${schema}.projection_checkpoints
        SET transaction_id = $4::xid8, global_position = $5, updated_at = now()
      WHERE name = $1 AND transaction_id = $2::xid8 AND global_position = $3
        AND ($4::xid8, $5::bigint) > ($2::xid8, $3::bigint)
      RETURNING name`,
    [name, from.transactionId, from.globalPosition, to.transactionId, to.globalPosition],
  );
  return rows.length === 1;
}

/** Unconditional move, for rebuilds that hold the row lock (taken by `loadCheckpoint(..., true)`). */
export async function setCheckpoint(q: TransactionContext, schema: string, name: string, to: Checkpoint): Promise<void> {
  await q.query(`UPDATE ${schema}.projection_checkpoints SET transaction_id = $2::xid8, global_position = $3, updated_at = now() WHERE name = $1`, [
    name,
    to.transactionId,
    to.globalPosition,
  ]);
}
