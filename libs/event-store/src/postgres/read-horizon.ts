/**
 * readAll's horizon is the snapshot xmin, and xmin is CLUSTER-wide: any open transaction with an xid,
 * in any database of the server, holds every reader back until it ends. Late events are delayed, never
 * skipped; tests (and tools) that need "everything committed so far" wait for the horizon here.
 */
import type { Pool } from 'pg';

/** Resolves once every transaction that had started before the call has ended (readAll can see it all). */
export async function waitForReadHorizon(pool: Pool, options: { timeoutMs?: number; pollMs?: number } = {}): Promise<void> {
  const { rows } = await pool.query<{ x: string }>('SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS x');
  const target = rows[0].x;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const res = await pool.query<{ ok: boolean }>('SELECT pg_snapshot_xmin(pg_current_snapshot()) >= $1::xid8 AS ok', [target]);
    if (res.rows[0].ok) return;
    if (Date.now() > deadline) throw new Error(`read horizon did not pass xid ${target} within ${options.timeoutMs ?? 30_000} ms: a transaction is held open`);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 10));
  }
}
