/**
 * Transactions over a pg Pool, exposed as the port's TransactionContext so other adapters (key
 * material, audit rows, projections) can write atomically with events.
 */
import type { Pool, PoolClient } from 'pg';
import type { TransactionContext } from '../event-store.port';

/** A TransactionContext that also exposes the pg client, for adapters that need more than `query`. */
export interface PgTransactionContext extends TransactionContext {
  readonly client: PoolClient;
}

export function pgTransactionContext(client: PoolClient): PgTransactionContext {
  return {
    client,
    async query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]> {
      const res = await client.query(sql, params);
      return res.rows as R[];
    },
  };
}

/** Runs `fn` in one READ COMMITTED transaction: commits on success, rolls back and rethrows on error. */
export async function withTransaction<T>(pool: Pool, fn: (tx: PgTransactionContext) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: unknown;
  // A checked-out client has no pool listener: a backend ended between two queries (pg_terminate_backend,
  // failover) would emit an unhandled 'error' and crash the process. The next query fails instead.
  const onError = (err: Error): void => { broken = err; };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    try {
      const result = await fn(pgTransactionContext(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      // A ROLLBACK would queue behind the timed-out query; destroying the connection rolls back instead.
      if (isQueryReadTimeout(err)) throw err;
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr; // the connection is unusable: destroy it rather than return it to the pool
      }
      throw err;
    }
  } catch (err) {
    // pg only stops waiting on a query read timeout: the query still holds the connection, never pool it again.
    if (isQueryReadTimeout(err)) broken ??= err;
    throw err;
  } finally {
    client.removeListener('error', onError);
    client.release(broken instanceof Error ? broken : undefined);
  }
}

/** pg's client-side `query_timeout` error (it has no code; pg-pool destroys the client for pool.query). */
export function isQueryReadTimeout(err: unknown): boolean {
  return err instanceof Error && err.message === 'Query read timeout';
}

/** A TransactionContext that runs each query on its own (autocommit), for reads outside a transaction. */
export function poolQuery(pool: Pool): TransactionContext {
  return { query: async <R>(sql: string, params?: unknown[]) => (await pool.query(sql, params)).rows as R[] };
}
