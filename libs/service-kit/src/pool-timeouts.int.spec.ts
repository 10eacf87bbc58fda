import { Pool } from 'pg';
import { withTransaction } from '@ekm/event-store';
import { createTestDatabase } from '../../../test/support/pg';
import { TcpProxy } from '../../../test/chaos/tcp-proxy';
import { isDatabaseUnavailable } from '../../../apps/keys/src/keys/application/database-unavailable';
import { poolTimeouts } from './event-log.module';
import { scaled, waitFor } from '../../../test/support/wait-for';

// A Postgres partition (TCP black hole, bytes held both ways) between a pool with poolTimeouts and
// the test server: every call fails within about one bound, with an error the keys service maps to
// EKM_UNAVAILABLE, and the pool serves again after the heal. Without the bounds each call hangs.
const BOUND_MS = 400;
// Scheduler slack over the bound: 300 ms on a quiet machine, more in proportion to the load (the
// timers themselves fire late on a busy 2-core runner; the bound is what the code sets).
const SLACK_MS = scaled(300);
let proxy: TcpProxy;
let pool: Pool;

beforeAll(async () => {
  const { url } = await createTestDatabase('ekm_pt');
  const u = new URL(url);
  proxy = await TcpProxy.start(Number(u.port));
  u.host = proxy.url;
  pool = new Pool({ connectionString: u.toString(), max: 2, ...poolTimeouts(BOUND_MS) });
  pool.on('error', () => undefined); // idle clients dying behind the proxy
  await pool.query('CREATE TABLE t (id int)');
});
afterAll(async () => {
  proxy?.heal();
  await pool?.end();
  await proxy?.close();
});

async function timed<T>(p: Promise<T>): Promise<{ ms: number; err: unknown }> {
  const start = performance.now();
  try {
    await p;
    return { ms: performance.now() - start, err: null };
  } catch (err) {
    return { ms: performance.now() - start, err };
  }
}

it('under a black hole: pool.query, withTransaction and a new connection fail within the bound; after heal it serves', async () => {
  proxy.blackhole();
  try {
    const q = await timed(pool.query('SELECT 1'));
    expect(q.ms).toBeLessThan(BOUND_MS + SLACK_MS);
    expect(isDatabaseUnavailable(q.err)).toBe(true);

    // BEGIN stalls: one bound, not two (no ROLLBACK queued behind the stalled query), client destroyed
    const tx = await timed(withTransaction(pool, (c) => c.query('INSERT INTO t VALUES (1)')));
    expect(tx.ms).toBeLessThan(BOUND_MS + SLACK_MS);
    expect(isDatabaseUnavailable(tx.err)).toBe(true);

    // both pool slots may hold dead clients: more calls still fail in bounded time, never hang
    const many = await Promise.all(Array.from({ length: 5 }, () => timed(pool.query('SELECT 1'))));
    for (const r of many) {
      expect(isDatabaseUnavailable(r.err)).toBe(true);
      expect(r.ms).toBeLessThan(2 * BOUND_MS + SLACK_MS); // waiting for a slot, then connecting: each bounded
    }
  } finally {
    proxy.heal();
  }
  proxy.reset(); // the held connections of the partition are gone for good
  await withTransaction(pool, (c) => c.query('INSERT INTO t VALUES (2)'));
  const { rows } = await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM t');
  expect(rows[0].n).toBe('1'); // the transaction of the partition never committed
});

it('a partition inside a transaction: one bound (no ROLLBACK behind the stalled query), nothing committed', async () => {
  const tx = await timed(withTransaction(pool, async (c) => {
    await c.query('INSERT INTO t VALUES (3)');
    proxy.blackhole();
    await c.query('INSERT INTO t VALUES (4)');
  }));
  proxy.heal();
  proxy.reset();
  expect(isDatabaseUnavailable(tx.err)).toBe(true);
  expect(tx.ms).toBeLessThan(BOUND_MS + SLACK_MS);
  // The reset also cut the pool's idle client (from the test before): until the pool notices, a query
  // may draw it and fail with "Connection terminated". A read is safe to repeat; what it reads must be 0.
  const n = await waitFor(async () => (await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM t WHERE id IN (3, 4)')).rows[0].n,
    { retryOnError: true, what: 'the pool to serve after the heal' });
  expect(n).toBe('0');
});

it('statement_timeout: a slow statement is cancelled by the server (57014), mapped as unavailable', async () => {
  const r = await timed(pool.query('SELECT pg_sleep(5)'));
  expect(r.ms).toBeLessThan(BOUND_MS + SLACK_MS);
  expect(isDatabaseUnavailable(r.err)).toBe(true);
  await expect(pool.query('SELECT 1')).resolves.toBeDefined();
});
