import { randomBytes, randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createTestDatabase } from '../../../../test/support/pg';
import { ExpectedVersion, START, type Checkpoint, type RecordedEvent } from '../event-store.port';
import { migrateServiceSchema } from './migrate-service-schema';
import { PostgresEventStore } from './postgres-event-store';
import { waitForReadHorizon } from './read-horizon';

const meta = { actor: 'svc:test' };
const ev = (type: string, data: unknown = {}) => ({ type, data, meta });
const after = (e: RecordedEvent): Checkpoint => ({ transactionId: e.transactionId, globalPosition: e.globalPosition });

describe('PostgresEventStore one-statement append (ExpectedVersion.any, no command id)', () => {
  let pool: Pool;
  let store: PostgresEventStore;

  beforeAll(async () => {
    const adminUrl = (await createTestDatabase()).url;
    const service = `t_${randomBytes(4).toString('hex')}`;
    await migrateServiceSchema({ adminUrl, service });
    const u = new URL(adminUrl);
    u.username = `ekm_${service}`;
    pool = new Pool({ connectionString: u.toString(), max: 16 });
    store = new PostgresEventStore(pool, { service });
  });
  afterAll(() => pool.end());

  it('answers exactly what readStream then returns, positions continuing the stream', async () => {
    const s = `u-${randomUUID()}`;
    const first = await store.appendToStream(s, [ev('A', { n: 1, skip: undefined }), ev('B', [1, 'two'])], { expectedVersion: ExpectedVersion.any });
    const second = await store.appendToStream(s, [ev('C', { n: 3 })], { expectedVersion: ExpectedVersion.any });
    expect(first.events.map((e) => e.streamPosition)).toEqual([1, 2]);
    expect(second).toMatchObject({ nextExpectedVersion: 3, duplicate: false });
    expect(await store.readStream(s)).toEqual([...first.events, ...second.events]);
    expect(await store.streamVersion(s)).toBe(3);
  });

  it('mixed with transactional appends under 8 writers: a tailing reader sees every event once, in stream order', async () => {
    const streams = Array.from({ length: 3 }, () => `u-${randomUUID()}`);
    const appended = new Set<string>();
    let writing = true;
    const writer = async (w: number) => {
      for (let i = 0; i < 250; i++) {
        const s = streams[(w + i) % streams.length];
        const events = Array.from({ length: 1 + (i % 3) }, (_, k) => ev('W', { w, i, k }));
        // Every 4th append takes the transactional path (alsoInTransaction): both must serialise per stream.
        const opts = i % 4 === 0 ? { expectedVersion: ExpectedVersion.any, alsoInTransaction: async () => undefined } : { expectedVersion: ExpectedVersion.any };
        const res = await store.appendToStream(s, events, opts);
        for (const e of res.events) appended.add(e.eventId);
      }
    };
    const tailed: RecordedEvent[] = [];
    const tail = async () => {
      let cp = START;
      for (;;) {
        const done = !writing;
        const page = await store.readAll(cp, 97);
        tailed.push(...page);
        if (page.length > 0) cp = after(page[page.length - 1]);
        else if (done) return;
        else await new Promise((r) => setTimeout(r, 2));
      }
    };
    const reader = tail();
    await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));
    await waitForReadHorizon(pool);
    writing = false;
    await reader;
    const mine = tailed.filter((e) => streams.includes(e.streamId));
    expect(mine).toHaveLength(appended.size);
    expect(new Set(mine.map((e) => e.eventId))).toEqual(appended);
    const seen = new Map<string, number>();
    for (const e of mine) {
      expect(e.streamPosition).toBe((seen.get(e.streamId) ?? 0) + 1);
      seen.set(e.streamId, e.streamPosition);
    }
    for (const s of streams) expect(await store.streamVersion(s)).toBe(seen.get(s));
  });
});
