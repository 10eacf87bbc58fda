/**
 * readAll's horizon is the snapshot xmin, and xmin is CLUSTER-wide: any open transaction with an xid,
 * in any database of the server, holds every reader back until it ends. Late events are delayed, never
 * skipped; tests (and tools) that need "everything committed so far" wait for the horizon here.
 */
import type { Client, Pool } from 'pg';

/**
 * Resolves once every transaction that had an xid when it was called has ended (readAll can see all they
 * wrote). The target is a fresh xid of our own (one autocommit `pg_current_xact_id()`, which costs one
 * xid): unlike `pg_snapshot_xmax`, which is only "latest completed + 1", it lies above every xid assigned
 * so far, including running transactions younger than the last completed one. Call it on a Pool or on a
 * Client that is NOT inside a transaction (inside one, the target would be that transaction itself).
 */
export async function waitForReadHorizon(pool: Pool | Client, options: { timeoutMs?: number; pollMs?: number } = {}): Promise<void> {
  const { rows } = await pool.query<{ x: string }>('SELECT pg_current_xact_id()::text AS x');
  const target = rows[0].x;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await pool.query<{ ok: boolean }>('SELECT pg_snapshot_xmin(pg_current_snapshot()) > $1::xid8 AS ok', [target]);
    if (res.rows[0].ok) return;
    if (Date.now() > deadline) throw new Error(`read horizon did not pass xid ${target} within ${timeoutMs} ms: a transaction is held open`);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 10));
  }
}
