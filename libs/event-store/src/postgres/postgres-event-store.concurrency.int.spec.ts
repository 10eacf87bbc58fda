import { randomBytes, randomUUID } from 'node:crypto';
import { Client, Pool } from 'pg';
import { createTestDatabase } from '../../../../test/support/pg';
import { ConcurrencyConflictError } from '../errors';
import { ExpectedVersion, START, type Checkpoint, type RecordedEvent } from '../event-store.port';
import { migrateServiceSchema } from './migrate-service-schema';
import { PostgresEventStore } from './postgres-event-store';
import { waitForReadHorizon } from './read-horizon';

const meta = { actor: 'svc:test' };
const ev = (type: string, data: unknown = {}) => ({ type, data, meta });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const after = (e: RecordedEvent): Checkpoint => ({ transactionId: e.transactionId, globalPosition: e.globalPosition });

describe('PostgresEventStore under concurrency', () => {
  let adminUrl: string;
  let appUrl: string;
  let service: string;
  let pool: Pool;
  let store: PostgresEventStore;

  beforeAll(async () => {
    adminUrl = (await createTestDatabase()).url;
    service = `t_${randomBytes(4).toString('hex')}`;
    await migrateServiceSchema({ adminUrl, service });
    const u = new URL(adminUrl);
    u.username = `ekm_${service}`;
    appUrl = u.toString();
    pool = new Pool({ connectionString: appUrl, max: 20 });
    store = new PostgresEventStore(pool, { service });
  });
  afterAll(() => pool.end());

  it('lets exactly one of 20 concurrent appends at the same Exact version win', async () => {
    const s = `s-${randomUUID()}`;
    await store.appendToStream(s, [ev('A')], { expectedVersion: ExpectedVersion.noStream });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => store.appendToStream(s, [ev('B', { i })], { expectedVersion: ExpectedVersion.exact(1) })),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(19);
    for (const r of lost) expect(r.reason).toBeInstanceOf(ConcurrencyConflictError);
    expect(await store.streamVersion(s)).toBe(2);
    expect(await store.readStream(s)).toHaveLength(2);
  });

  it('fails the second of two concurrent NoStream appends', async () => {
    const s = `s-${randomUUID()}`;
    const results = await Promise.allSettled([1, 2].map((n) => store.appendToStream(s, [ev('A', { n })], { expectedVersion: ExpectedVersion.noStream })));
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected?.reason).toBeInstanceOf(ConcurrencyConflictError);
    await expect(store.appendToStream(s, [ev('A')], { expectedVersion: ExpectedVersion.noStream })).rejects.toBeInstanceOf(ConcurrencyConflictError);
    expect(await store.streamVersion(s)).toBe(1);
  });

  it('appends a command once when identical copies race (Any and Exact), the others answer duplicate', async () => {
    for (const expectedVersion of [ExpectedVersion.any, ExpectedVersion.exact(1)]) {
      const s = `s-${randomUUID()}`;
      await store.appendToStream(s, [ev('Created')], { expectedVersion: ExpectedVersion.noStream });
      const results = await Promise.all(
        Array.from({ length: 10 }, () => store.appendToStream(s, [ev('X'), ev('Y')], { expectedVersion, commandId: 'same-command' })),
      );
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      for (const r of results) expect(r.events.map((e) => e.eventId)).toEqual(results[0].events.map((e) => e.eventId));
      expect(await store.streamVersion(s)).toBe(3);
    }
  });

  it('holds readAll back while an earlier transaction is open, then returns both in order', async () => {
    const a = new Client({ connectionString: appUrl });
    const b = new Client({ connectionString: appUrl });
    await Promise.all([a.connect(), b.connect()]);
    const insert = `INSERT INTO ekm_${service}.events (stream_id, stream_position, event_id, event_type, data, metadata) VALUES ($1, 1, $2, 'Late', '{}', '{"actor":"t"}')`;
    try {
      await waitForReadHorizon(pool);
      const before = await store.readAll(START, 10_000);
      const from = before.length ? after(before[before.length - 1]) : START;
      const early = `early-${randomUUID()}`;
      const late = `late-${randomUUID()}`;
      await a.query('BEGIN');
      await a.query(insert, [early, randomUUID()]); // takes the lower xid, commits last
      await b.query('BEGIN');
      await b.query(insert, [late, randomUUID()]);
      await b.query('COMMIT');
      expect(await store.readAll(from, 100)).toEqual([]); // not b's event either: it would be skipped forever
      await a.query('COMMIT');
      // Suites in other databases of the same server can hold the (cluster-wide) horizon a moment longer.
      await waitForReadHorizon(pool);
      const now = await store.readAll(from, 100);
      expect(now.map((e) => e.streamId)).toEqual([early, late]);
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });

  it('8 writers x 500 appends with ~10% rollbacks: a tailing reader sees exactly the committed events once, in stream order', async () => {
    const prefix = `w-${randomUUID()}`;
    const streams = Array.from({ length: 12 }, (_, i) => `${prefix}-${i}`);
    const committed = new Set<string>();
    let rolledBack = 0;
    let writing = true;
    const writer = async (w: number) => {
      for (let i = 0; i < 500; i++) {
        const s = streams[Math.floor(Math.random() * streams.length)];
        const fail = Math.random() < 0.1;
        const count = 1 + Math.floor(Math.random() * 3);
        try {
          const res = await store.appendToStream(s, Array.from({ length: count }, (_, k) => ev('W', { w, i, k })), {
            expectedVersion: ExpectedVersion.any,
            alsoInTransaction: async () => {
              if (Math.random() < 0.3) await sleep(Math.random() * 3);
              if (fail) throw new Error('roll back');
            },
          });
          for (const e of res.events) committed.add(e.eventId);
        } catch (err) {
          if (!fail) throw err;
          rolledBack++;
        }
      }
    };
    const tailed: RecordedEvent[] = [];
    const tail = async () => {
      let cp = START;
      for (;;) {
        const done = !writing; // read once more after the writers finished
        const page = await store.readAll(cp, 97);
        tailed.push(...page);
        if (page.length > 0) cp = after(page[page.length - 1]);
        else if (done) return;
        else await sleep(2);
      }
    };
    const reader = tail();
    await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));
    await waitForReadHorizon(pool);
    writing = false;
    await reader;

    expect(rolledBack).toBeGreaterThan(200);
    const mine = tailed.filter((e) => e.streamId.startsWith(prefix));
    expect(mine).toHaveLength(committed.size); // each once (readAll once sorted positions as text: '1000' < '999')
    expect(new Set(mine.map((e) => e.eventId))).toEqual(committed);
    const seen = new Map<string, number>();
    for (const e of mine) {
      expect(e.streamPosition).toBe((seen.get(e.streamId) ?? 0) + 1); // per-stream order, no gaps
      seen.set(e.streamId, e.streamPosition);
    }
    for (const s of streams) expect(await store.streamVersion(s)).toBe(seen.get(s) ?? 0);
  });
});
