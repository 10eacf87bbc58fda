/**
 * withTransaction when the backend is ended between two queries of the transaction (found by the chaos
 * harness, test/chaos: `pg_terminate_backend` of the keys service's backends crashed the process with an
 * unhandled 'error' event of a checked-out client). The transaction must fail, the process must not.
 */
import { Client, Pool } from 'pg';
import { createTestDatabase } from '../../../../test/support/pg';
import { withTransaction } from './pg-transaction';

describe('withTransaction: backend terminated mid-transaction', () => {
  let pool: Pool;
  let admin: Client;

  beforeAll(async () => {
    const db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 2 });
    pool.on('error', () => undefined);
    admin = new Client({ connectionString: db.url });
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.end();
    await pool?.end();
  });

  it('rejects the transaction, emits no unhandled error, and the pool serves the next one', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown): void => { uncaught.push(e); };
    process.on('uncaughtException', onUncaught);
    try {
      await expect(withTransaction(pool, async (tx) => {
        const [{ pid }] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
        // The FATAL message arrives while no query of this client is active.
        await new Promise((r) => setTimeout(r, 300));
        await tx.query('SELECT 1');
      })).rejects.toThrow();
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(uncaught).toEqual([]);
    await expect(withTransaction(pool, (tx) => tx.query<{ one: number }>('SELECT 1 AS one'))).resolves.toEqual([{ one: 1 }]);
  });
});
