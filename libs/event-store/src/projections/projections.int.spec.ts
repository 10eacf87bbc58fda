import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Client, Pool } from 'pg';
import { createTestDatabase } from '../../../../test/support/pg';
import { ExpectedVersion, START, type TransactionContext } from '../event-store.port';
import { poolQuery } from '../postgres/pg-transaction';
import { waitForReadHorizon } from '../postgres/read-horizon';
import { migrateServiceSchema } from '../postgres/migrate-service-schema';
import { PostgresEventStore } from '../postgres/postgres-event-store';
import { AsyncProjectionRunner } from './async-projection-runner';
import { toInline, type Projection } from './projection';
import { advanceCheckpoint, loadCheckpoint } from './projection-checkpoints';
import { rebuildProjection } from './rebuild-projection';

/** Per-stream stats whose `history` makes any reordering, loss or double application visible. */
function statsProjection(name: string, table: string, prefix: string): Projection {
  return {
    name,
    reset: async (tx) => void (await tx.query(`DELETE FROM ${table}`)),
    apply: async (tx, events) => {
      for (const e of events) {
        if (!e.streamId.startsWith(prefix)) continue;
        await tx.query(
          `INSERT INTO ${table} AS t (stream_id, events, total, history) VALUES ($1, 1, $2, $3)
           ON CONFLICT (stream_id) DO UPDATE SET events = t.events + 1, total = t.total + EXCLUDED.total, history = t.history || ',' || EXCLUDED.history`,
          [e.streamId, (e.data as { n: number }).n, `${e.type}${e.streamPosition}`],
        );
      }
    },
  };
}

describe('projections', () => {
  let service: string;
  let admin: Client;
  let pool: Pool;
  let store: PostgresEventStore;
  const createTable = (table: string) => admin.query(`CREATE TABLE ${table} (stream_id text PRIMARY KEY, events int NOT NULL, total bigint NOT NULL, history text NOT NULL)`);
  const rowsOf = async (table: string) => (await pool.query(`SELECT stream_id, events, total::int, history FROM ${table} ORDER BY stream_id`)).rows;

  beforeAll(async () => {
    const db = await createTestDatabase();
    service = `t_${randomBytes(4).toString('hex')}`;
    await migrateServiceSchema({ adminUrl: db.url, service });
    admin = new Client({ connectionString: db.url });
    await admin.connect();
    const app = new URL(db.url);
    app.username = `ekm_${service}`;
    pool = new Pool({ connectionString: app.toString(), max: 8 });
    store = new PostgresEventStore(pool, { service });
  });
  afterAll(() => Promise.all([admin?.end(), pool?.end()]));

  it('an inline projection commits and rolls back with its append', async () => {
    const table = `ekm_${service}.inline_${randomBytes(3).toString('hex')}`;
    await createTable(table);
    const inline = [toInline(statsProjection('inline', table, 'i-'))];
    const failing = (_tx: TransactionContext) => Promise.reject(new Error('side write failed'));
    await expect(store.appendToStream('i-1', [{ type: 'A', data: { n: 5 }, meta: { actor: 't' } }], { expectedVersion: ExpectedVersion.noStream, inline, alsoInTransaction: failing })).rejects.toThrow('side write failed');
    expect(await rowsOf(table)).toEqual([]);
    await store.appendToStream('i-1', [{ type: 'A', data: { n: 5 }, meta: { actor: 't' } }], { expectedVersion: ExpectedVersion.noStream, inline });
    expect(await rowsOf(table)).toEqual([{ stream_id: 'i-1', events: 1, total: 5, history: 'A1' }]);
  });

  const op = fc.record({
    stream: fc.integer({ min: 0, max: 4 }),
    events: fc.array(fc.record({ type: fc.constantFrom('Created', 'Renamed', 'Used'), n: fc.integer({ min: -100, max: 100 }) }), { minLength: 1, maxLength: 3 }),
    fail: fc.integer({ min: 0, max: 6 }).map((n) => n === 0),
  });

  it('live (inline), async (two racing runners) and rebuilt-from-zero projections agree on random workloads', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), async (ops) => {
        const tag = `r${run++}_${randomBytes(3).toString('hex')}`;
        const prefix = `${tag}-`;
        const [live, async_, rebuilt] = ['live', 'async', 'rebuilt'].map((k) => `ekm_${service}.${k}_${tag}`);
        for (const t of [live, async_, rebuilt]) await createTable(t);
        const asyncProjection = statsProjection(`async_${tag}`, async_, prefix);
        const runners = [1, 2].map(() => new AsyncProjectionRunner({ pool, service, projection: asyncProjection, batchSize: 3, pollIntervalMs: 5 }));
        runners.forEach((r) => r.start());
        const inline = [toInline(statsProjection(`live_${tag}`, live, prefix))];
        // Four appends in flight at a time, so runners read while transactions commit out of order.
        for (let i = 0; i < ops.length; i += 4) {
          await Promise.allSettled(
            ops.slice(i, i + 4).map((o) =>
              store.appendToStream(`${prefix}${o.stream}`, o.events.map((e) => ({ type: e.type, data: { n: e.n }, meta: { actor: 't' } })), {
                expectedVersion: ExpectedVersion.any,
                inline,
                alsoInTransaction: () => (o.fail ? Promise.reject(new Error('rolled back')) : Promise.resolve()),
              }),
            ),
          );
        }
        await waitForReadHorizon(pool);
        // A rebuild of the projection the runners are driving: they must reload, not double-apply.
        await rebuildProjection({ pool, service, projection: asyncProjection, batchSize: 4 });
        await Promise.all(runners.map((r) => r.stop()));
        await runners[0].catchUp();
        await rebuildProjection({ pool, service, projection: statsProjection(`rebuilt_${tag}`, rebuilt, prefix), batchSize: 5 });
        const expected = await rowsOf(live);
        expect(expected.length).toBe(new Set(ops.filter((o) => !o.fail).map((o) => o.stream)).size);
        expect(await rowsOf(async_)).toEqual(expected);
        expect(await rowsOf(rebuilt)).toEqual(expected);
      }),
      { numRuns: 6 },
    );
  });

  it('moves checkpoints only forward, by compare-and-set', async () => {
    const table = `ekm_${service}.cp_${randomBytes(3).toString('hex')}`;
    await createTable(table);
    const name = `cp_${table}`;
    const runner = new AsyncProjectionRunner({ pool, service, projection: statsProjection(name, table, 'cp-') });
    await store.appendToStream('cp-1', [{ type: 'A', data: { n: 1 }, meta: { actor: 't' } }], { expectedVersion: ExpectedVersion.noStream });
    await waitForReadHorizon(pool);
    expect(await runner.catchUp()).toBeGreaterThanOrEqual(1);
    expect(await runner.catchUp()).toBe(0);
    const q = poolQuery(pool);
    const schema = `ekm_${service}`;
    const current = await loadCheckpoint(q, schema, name);
    expect(current).not.toEqual(START);
    expect(await advanceCheckpoint(q, schema, name, current, START)).toBe(false); // backwards
    expect(await advanceCheckpoint(q, schema, name, START, { transactionId: '999999999', globalPosition: '1' })).toBe(false); // stale `from`
    expect(await loadCheckpoint(q, schema, name)).toEqual(current);
    expect(await rowsOf(table)).toEqual([{ stream_id: 'cp-1', events: 1, total: 1, history: 'A1' }]);
  });
  it('a rebuild includes every event committed before it started, even while another transaction is open on the server', async () => {
    const table = `ekm_${service}.hz_${randomBytes(3).toString('hex')}`;
    await createTable(table);
    // An open transaction with an xid (in another database of the cluster: the snapshot xmin is
    // cluster-wide) holds readAll's horizon below the events appended after it began.
    const other = await createTestDatabase();
    const holder = new Client({ connectionString: other.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_current_xact_id()');
      for (let i = 1; i <= 3; i++) await store.appendToStream(`hz-${i}`, [{ type: 'A', data: { n: i }, meta: { actor: 't' } }], { expectedVersion: ExpectedVersion.noStream });
      const release = new Promise((r) => setTimeout(r, 300)).then(() => holder.query('COMMIT'));
      const result = await rebuildProjection({ pool, service, projection: statsProjection(`hz_${table}`, table, 'hz-') });
      await release;
      expect(result.applied).toBeGreaterThanOrEqual(3);
      expect((await rowsOf(table)).map((r) => r.stream_id)).toEqual(['hz-1', 'hz-2', 'hz-3']);
    } finally {
      await holder.end();
    }
  });

  it('a rebuild refuses, with a clear error, when a transaction stays open past its horizon timeout', async () => {
    const holder = new Client({ connectionString: (await createTestDatabase()).url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_current_xact_id()');
      await expect(rebuildProjection({ pool, service, projection: statsProjection('hz_timeout', 'unused', 'none-'), horizonTimeoutMs: 200 }))
        .rejects.toThrow(/a transaction is held open/);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
  });
});
