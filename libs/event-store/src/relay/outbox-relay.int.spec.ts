import { ExpectedVersion, type Checkpoint } from '../event-store.port';
import { HELD_BACK_SQL, OutboxRelay } from './outbox-relay';
import { advanceCheckpoint, readRelayRow } from './relay-checkpoint';
import { RelayCheckpointNotForwardError, RelayLeaseLostError } from './relay.errors';
import { republishRange } from './republish-range';
import { quietPeriod } from '../../../../test/support/wait-for';
import { committedEventIds, readStreamMessages, relayFixture, waitFor, type RelayFixture } from './relay-test.fixture';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const cmp = (a: Checkpoint, b: Checkpoint): number => {
  const d = BigInt(a.transactionId) - BigInt(b.transactionId) || BigInt(a.globalPosition) - BigInt(b.globalPosition);
  return d === 0n ? 0 : d < 0n ? -1 : 1;
};

class Rollback extends Error {}

/** Appends `n` events from one writer; ~10 % roll back after a random delay inside the transaction. */
async function writer(f: RelayFixture, w: number, n: number): Promise<{ committed: number; rolledBack: number }> {
  let committed = 0;
  let rolledBack = 0;
  for (let i = 0; i < n; i++) {
    // Own streams plus two shared ones, so concurrent transactions interleave on the same stream.
    const streamId = i % 4 === 0 ? `shared-${i % 8 === 0 ? 'a' : 'b'}` : `w${w}-s${i % 3}`;
    const rollback = Math.random() < 0.1;
    const delay = Math.floor(Math.random() * 3);
    try {
      await f.store.appendToStream(streamId, [{ type: 'ThingHappened', data: { w, i }, meta: { actor: `writer-${w}`, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } }], {
        expectedVersion: ExpectedVersion.any,
        alsoInTransaction: async () => {
          if (delay > 0) await sleep(delay); // hold the xid open: later transactions commit first
          if (rollback) throw new Rollback();
        },
      });
      committed++;
    } catch (err) {
      if (!(err instanceof Rollback)) throw err;
      rolledBack++;
    }
  }
  return { committed, rolledBack };
}

describe('OutboxRelay (Postgres + JetStream)', () => {
  let f: RelayFixture;
  beforeAll(async () => {
    f = await relayFixture('relay');
  });
  afterAll(async () => {
    await f.close();
  });

  it('publishes exactly the committed events of 8 concurrent writers, once each, in stream order; checkpoint only moves forward', async () => {
    const checkpoints: Checkpoint[] = [];
    const errors: string[] = [];
    const relay = new OutboxRelay({
      service: f.service, pool: f.pool, store: f.store, js: f.js,
      batchSize: 100, pollIntervalMs: 100,
      logger: { info: () => undefined, warn: () => undefined, error: (o) => void errors.push(JSON.stringify(o)) },
      hooks: { afterCheckpoint: (c) => void checkpoints.push(c) },
    });
    relay.start();
    try {
      const results = await Promise.all(Array.from({ length: 8 }, (_, w) => writer(f, w, 500)));
      const committed = results.reduce((s, r) => s + r.committed, 0);
      const rolledBack = results.reduce((s, r) => s + r.rolledBack, 0);
      expect(rolledBack).toBeGreaterThan(200);
      expect(committed + rolledBack).toBe(4000);

      await waitFor(async () => (await relay.status()).lag === 0, 30_000, 'relay to catch up');
      const ids = await committedEventIds(f.pool, f.schema);
      expect(ids).toHaveLength(committed);
      const msgs = await readStreamMessages(f.jsm, f.stream);
      expect(msgs).toHaveLength(committed);
      expect(new Set(msgs.map((m) => m.msgId)).size).toBe(committed);
      expect(new Set(msgs.map((m) => m.msgId))).toEqual(new Set(ids));
      expect(msgs.every((m) => m.subject === `ekm.events.${f.service}.ThingHappened`)).toBe(true);

      // Per stream, JetStream order is 1, 2, 3, ... with no gap (rolled-back appends take no position).
      const next = new Map<string, number>();
      for (const m of msgs) {
        const expected = (next.get(m.streamId) ?? 0) + 1;
        expect({ stream: m.streamId, position: m.streamPosition }).toEqual({ stream: m.streamId, position: expected });
        next.set(m.streamId, expected);
      }

      expect(checkpoints.length).toBeGreaterThanOrEqual(1);
      for (let i = 1; i < checkpoints.length; i++) expect(cmp(checkpoints[i - 1], checkpoints[i])).toBe(-1);
      const status = await relay.status();
      expect(errors).toEqual([]);
      expect(status).toMatchObject({ isActive: true, holder: relay.holderId, lag: 0, published: String(committed), lastError: null });
      expect(status.checkpoint).toEqual(checkpoints[checkpoints.length - 1]);
    } finally {
      await relay.stop();
    }
    expect(relay.isActive).toBe(false);
  });

  it('copies traceparent and stream headers onto the message', async () => {
    const { js } = f;
    const first = (await readStreamMessages(f.jsm, f.stream))[0];
    const m = await f.jsm.streams.getMessage(f.stream, { seq: first.seq });
    expect(m?.header.get('traceparent')).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(m?.header.get('Ekm-Event-Type')).toBe('ThingHappened');
    expect(m?.json<{ eventId: string }>().eventId).toBe(first.msgId);
    expect(js).toBeDefined();
  });

  it('refuses a checkpoint write with a stale fencing token or one that goes backwards', async () => {
    const row = await readRelayRow(f.pool, f.schema);
    const ahead = { transactionId: String(BigInt(row.checkpoint.transactionId) + 1000n), globalPosition: '1' };
    await expect(advanceCheckpoint(f.pool, f.schema, String(BigInt(row.fencing) - 1n), ahead, 0)).rejects.toBeInstanceOf(RelayLeaseLostError);
    await expect(advanceCheckpoint(f.pool, f.schema, row.fencing, { transactionId: '1', globalPosition: '1' }, 0)).rejects.toBeInstanceOf(RelayCheckpointNotForwardError);
    expect((await readRelayRow(f.pool, f.schema)).checkpoint).toEqual(row.checkpoint);
  });

  it('republishRange re-sends a range; JetStream drops the duplicates inside the window', async () => {
    const before = (await f.jsm.streams.info(f.stream)).state.messages;
    const row = await readRelayRow(f.pool, f.schema);
    const out = await republishRange({ service: f.service, store: f.store, js: f.js, batchSize: 500 }, { transactionId: '0', globalPosition: '0' }, row.checkpoint);
    expect(out.published).toBe(before);
    expect(out.duplicates).toBe(before);
    expect(out.through).toEqual(row.checkpoint);
    expect((await f.jsm.streams.info(f.stream)).state.messages).toBe(before);
  });
});

describe('OutboxRelay checkpoint coalescing', () => {
  let f: RelayFixture;
  beforeEach(async () => {
    f = await relayFixture('relaycp');
  });
  afterEach(async () => {
    await f.close();
  });

  const appendOne = (i: number): Promise<unknown> =>
    f.store.appendToStream(`cp-${i}`, [{ type: 'Ticked', data: { i }, meta: { actor: 'test' } }], { expectedVersion: ExpectedVersion.any });
  const inStream = async (): Promise<number> => (await f.jsm.streams.info(f.stream)).state.messages;

  it('publishes each event at once but commits no checkpoint per event; stop() commits what was published', async () => {
    const commits: Checkpoint[] = [];
    const relay = new OutboxRelay({
      service: f.service, pool: f.pool, store: f.store, js: f.js, pollIntervalMs: 100,
      checkpointIntervalMs: 600_000, checkpointMaxEvents: 1_000,
      hooks: { afterCheckpoint: (c) => void commits.push(c) },
    });
    relay.start();
    try {
      await waitFor(() => relay.isActive, 5_000, 'the lease');
      for (let i = 1; i <= 5; i++) {
        await appendOne(i);
        // Sequential writes: each one reaches JetStream without waiting for a checkpoint or a batch.
        await waitFor(async () => (await inStream()) === i, 10_000, `event ${i} published`);
      }
      expect(commits).toEqual([]);
      expect((await readRelayRow(f.pool, f.schema)).published).toBe('0');
    } finally {
      await relay.stop();
    }
    expect(commits).toHaveLength(1);
    const row = await readRelayRow(f.pool, f.schema);
    expect(row.published).toBe('5');
    expect((await f.store.readAll(row.checkpoint, 10)).length).toBe(0);
  });

  it('an idle relay commits the pending checkpoint once its interval passed, and one commit covers many events', async () => {
    const commits: Checkpoint[] = [];
    const relay = new OutboxRelay({
      service: f.service, pool: f.pool, store: f.store, js: f.js, pollIntervalMs: 100, checkpointIntervalMs: 300,
      hooks: { afterCheckpoint: (c) => void commits.push(c) },
    });
    relay.start();
    try {
      await waitFor(() => relay.isActive, 5_000, 'the lease');
      await Promise.all(Array.from({ length: 40 }, (_, i) => appendOne(i)));
      await waitFor(async () => (await readRelayRow(f.pool, f.schema)).published === '40', 10_000, 'the idle commit');
      expect(await inStream()).toBe(40);
      expect(commits.length).toBeLessThan(40);
      expect((await relay.status()).lag).toBe(0);
    } finally {
      await relay.stop();
    }
    expect(await inStream()).toBe(40);
  });

  it('checkpointMaxEvents bounds what a crash would re-publish', async () => {
    const commits: Checkpoint[] = [];
    const relay = new OutboxRelay({
      service: f.service, pool: f.pool, store: f.store, js: f.js, pollIntervalMs: 100, batchSize: 10,
      checkpointIntervalMs: 600_000, checkpointMaxEvents: 20,
      hooks: { afterCheckpoint: (c) => void commits.push(c) },
    });
    for (let i = 0; i < 60; i += 10) {
      await f.store.appendToStream(`cpm-${i}`, Array.from({ length: 10 }, (_, k) => ({ type: 'Ticked', data: { i: i + k }, meta: { actor: 'test' } })), { expectedVersion: ExpectedVersion.any });
    }
    relay.start();
    try {
      await waitFor(async () => (await readRelayRow(f.pool, f.schema)).published === '60', 10_000, 'three commits of 20');
      expect(commits).toHaveLength(3);
    } finally {
      await relay.stop();
    }
  });

  it('stamps Ekm-Relay-Seq <fencing>:1,2,3 on sequenced types only, and heartbeats its latest number while caught up', async () => {
    const seen: { subject: string; seq: string | undefined }[] = [];
    const hbSubject = `ekm.relay.${f.service}.heartbeat`;
    const sub = f.nc.subscribe(`ekm.events.${f.service}.>`, { callback: (_e, m) => void seen.push({ subject: m.subject, seq: m.headers?.get('Ekm-Relay-Seq') }) });
    const beats: string[] = [];
    const hb = f.nc.subscribe(hbSubject, { callback: (_e, m) => void beats.push(m.headers?.get('Ekm-Relay-Seq') ?? '') });
    await f.nc.flush();
    const relay = new OutboxRelay({
      service: f.service, pool: f.pool, store: f.store, js: f.js, pollIntervalMs: 1_000,
      sequenced: (t) => t === 'Important', heartbeat: { subject: hbSubject, intervalMs: 50 },
    });
    relay.start();
    try {
      await waitFor(() => relay.isActive, 5_000, 'the lease');
      await waitFor(() => beats.length > 0, 5_000, 'a first heartbeat');
      const fencing = beats[0].split(':')[0];
      expect(beats[0]).toBe(`${fencing}:0`);
      await f.store.appendToStream('seq-1', [
        { type: 'Important', data: {}, meta: { actor: 'test' } },
        { type: 'Ticked', data: {}, meta: { actor: 'test' } },
        { type: 'Important', data: {}, meta: { actor: 'test' } },
      ], { expectedVersion: ExpectedVersion.any });
      await waitFor(() => beats.includes(`${fencing}:2`), 10_000, 'a heartbeat after both sequenced events');
      expect(seen.map((m) => [m.subject.split('.').pop(), m.seq])).toEqual([['Important', `${fencing}:1`], ['Ticked', ''], ['Important', `${fencing}:2`]]);
      // The idle poll is 1 s, yet heartbeats keep coming at the 50 ms interval.
      const n = beats.length;
      await waitFor(() => beats.length >= n + 5, 10_000, 'more heartbeats while idle');
      expect(beats.slice(n).every((b) => b === `${fencing}:2`)).toBe(true);
    } finally {
      await relay.stop();
      sub.unsubscribe();
      hb.unsubscribe();
    }
  });

  it('sends no heartbeat while a committed event is held back by an open transaction (a replica must not keep trusting its caches)', async () => {
    const hbSubject = `ekm.relay.${f.service}.heartbeat`;
    const seen: string[] = [];
    const sub = f.nc.subscribe(`ekm.events.${f.service}.>`, { callback: (_e, m) => void seen.push(m.subject) });
    const beats: string[] = [];
    const hb = f.nc.subscribe(hbSubject, { callback: (_e, m) => void beats.push(m.headers?.get('Ekm-Relay-Seq') ?? '') });
    await f.nc.flush();
    const relay = new OutboxRelay({
      service: f.service, pool: f.pool, store: f.store, js: f.js, pollIntervalMs: 1_000,
      sequenced: (t) => t === 'Important', heartbeat: { subject: hbSubject, intervalMs: 50 },
    });
    const held = await f.pool.connect();
    relay.start();
    try {
      await waitFor(() => relay.isActive, 5_000, 'the lease');
      // A transaction with an xid, open like a pg_dump's: alone it holds nothing back, so beats go on.
      await held.query('BEGIN');
      await held.query('SELECT pg_current_xact_id()');
      const before = beats.length;
      await waitFor(() => beats.length >= before + 3, 10_000, 'heartbeats while the transaction is open but nothing is held back');
      await f.store.appendToStream('held-1', [{ type: 'Important', data: {}, meta: { actor: 'test' } }], { expectedVersion: ExpectedVersion.any });
      await quietPeriod(100); // a heartbeat decided before the commit may still arrive
      const n = beats.length;
      // Twenty intervals: heartbeats would arrive every 25-50 ms if the relay still sent them.
      await quietPeriod(1_000);
      expect(beats.length).toBe(n);
      expect(seen.filter((s) => s.endsWith('.Important'))).toHaveLength(0);
      await held.query('COMMIT');
      await waitFor(() => seen.some((s) => s.endsWith('.Important')), 10_000, 'the held-back event published');
      await waitFor(() => beats.length > n, 10_000, 'heartbeats again once caught up');
      expect(beats.at(-1)?.endsWith(':1')).toBe(true);
    } finally {
      await held.query('ROLLBACK').catch(() => undefined);
      held.release();
      await relay.stop();
      sub.unsubscribe();
      hb.unsubscribe();
    }
  });
  it('the held-back probe reads one index entry, not the log (it runs up to eight times a second), and answers what the heartbeat needs', async () => {
    for (let n = 0; n < 20; n++) {
      await f.store.appendToStream(`probe-${n}`, Array.from({ length: 100 }, (_, i) => ({ type: 'Filler', data: { i }, meta: { actor: 'test' } })), { expectedVersion: ExpectedVersion.any });
    }
    await f.pool.query(`ANALYZE ${f.schema}.events`);
    const plan = JSON.stringify((await f.pool.query(`EXPLAIN (FORMAT JSON) ${HELD_BACK_SQL(f.schema)}`)).rows);
    expect(plan).not.toMatch(/"Node Type":\s*"Seq Scan"/);
    expect(plan).toMatch(/"Index Name":\s*"events_transaction_order"/);
    const held = async (): Promise<boolean> => (await f.pool.query<{ held: boolean }>(HELD_BACK_SQL(f.schema))).rows[0].held;
    // xmin is cluster-wide: another spec's open transaction on the same server holds events back too,
    // so "nothing held" is waited for, not assumed at one instant.
    await waitFor(async () => !(await held()), 20_000, 'nothing held back');
    const open = await f.pool.connect();
    try {
      await open.query('BEGIN');
      await open.query('SELECT pg_current_xact_id()');
      await f.store.appendToStream('probe-held', [{ type: 'Filler', data: {}, meta: { actor: 'test' } }], { expectedVersion: ExpectedVersion.any });
      expect(await held()).toBe(true); // committed after the open one began: readAll cannot see it yet
      await open.query('COMMIT');
      await waitFor(async () => !(await held()), 20_000, 'the event readable once the open transaction ended');
    } finally {
      await open.query('ROLLBACK').catch(() => undefined);
      open.release();
    }
  });
});
