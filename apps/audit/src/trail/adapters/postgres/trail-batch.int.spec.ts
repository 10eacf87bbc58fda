/**
 * Usage batches in the trail, against a real Postgres: a `KeyUsageBatchRecorded` event becomes one
 * entry per record (own leaf, own hash, `source.item`), a redelivered batch is recorded once, a batch
 * already partly in the trail gets only its missing records, single `KeyUsageRecorded` events and
 * batches share one chain, two writers never fork it, gap repair expands batches read from the source,
 * and a trail written before the migration still verifies after it and grows on.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { SoftwareRootOfTrust } from '@ekm/crypto';
import { ExpectedVersion, migrateServiceSchema, PostgresEventStore } from '@ekm/event-store';
import { createTestDatabase } from '../../../../../../test/support/pg';
import { chainHash, GENESIS_HASH } from '../../application/hash-chain';
import { buildEntry } from '../../application/quarantine';
import { verifyTrail, type VerifyResult } from '../../application/verify-trail';
import type { AuditEntry, SourceEvent } from '../../domain/audit-entry';
import { AuditSigner } from '../signing/audit-signer';
import { AuditTrailMigration } from './audit-schema.migration';
import { readStreamRange } from './source-events';
import { AuditTrailBatchMigration } from './trail-batch.migration';
import { TrailAppender } from './trail-appender';
import { TrailReader } from './trail-reader';

let gp = 0;
const record = (principal: string, n: number): Record<string, unknown> => ({
  requestId: `req-${principal}-${n}-${randomUUID()}`, principal, tenant: 'acme', operation: 'Decrypt', keyId: 'k1', keyVersion: 1, outcome: 'ALLOWED', at: new Date().toISOString(),
});
const batch = (stream: string, pos: number, records: readonly Record<string, unknown>[], eventId = randomUUID()): SourceEvent => ({
  service: 'keys', eventId, type: 'KeyUsageBatchRecorded', streamId: stream, streamPosition: pos, globalPosition: String(++gp),
  recordedAt: new Date(1_700_000_000_000 + pos * 1000).toISOString(), data: { records }, meta: { actor: String(records[0]?.principal ?? 'x') },
});
const single = (stream: string, pos: number, principal = 'alice'): SourceEvent => ({
  service: 'keys', eventId: randomUUID(), type: 'KeyUsageRecorded', streamId: stream, streamPosition: pos, globalPosition: String(++gp),
  recordedAt: new Date(1_700_000_000_000 + pos * 1000).toISOString(), data: record(principal, pos), meta: { actor: principal },
});

interface Row { leaf: number; text: string; entry: AuditEntry; item: number; principal: string; hash: Buffer }

describe('usage batches in the trail (Postgres)', () => {
  let db: { url: string };
  let pool: Pool;
  let admin: Client;
  let signer: AuditSigner;
  let dataDir: string;

  beforeAll(async () => {
    db = await createTestDatabase('ekm_audit_batch');
    await migrateServiceSchema({ adminUrl: db.url, service: 'audit', extraMigrations: [AuditTrailMigration, AuditTrailBatchMigration] });
    // The keys service's event log in the same database: the source gap repair reads.
    await migrateServiceSchema({ adminUrl: db.url, service: 'keys' });
    pool = new Pool({ connectionString: db.url, max: 6 });
    admin = new Client({ connectionString: db.url });
    await admin.connect();
    dataDir = mkdtempSync(join(tmpdir(), 'ekm-audit-batch-'));
    const root = SoftwareRootOfTrust.open({ dataDir, env: 'development', secret: 'audit-batch-test-secret', scrypt: { N: 1 << 14, r: 8, p: 1 } });
    signer = await AuditSigner.load(pool, root);
    await root.close();
  });
  afterAll(async () => {
    await admin?.end();
    await pool?.end();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const appender = (checkpointEvery = 1_000): TrailAppender => new TrailAppender({ pool, signer, checkpointEvery });
  const verify = (): Promise<VerifyResult> => verifyTrail(new TrailReader(pool), { verifySignature: (p, s) => signer.verify(p, s), batchSize: 50 });
  const rowsOf = async (stream: string): Promise<Row[]> => (await admin.query<{ leaf_index: string; entry: string; source_item: number; principal: string; hash: Buffer }>(
    'SELECT leaf_index, entry, source_item, principal, hash FROM ekm_audit.trail WHERE source_stream_id = $1 ORDER BY leaf_index', [stream],
  )).rows.map((r) => ({ leaf: Number(r.leaf_index), text: r.entry, entry: JSON.parse(r.entry) as AuditEntry, item: r.source_item, principal: r.principal, hash: r.hash }));

  it('appends a batch event as one entry per record, each with its own leaf, hash and source item', async () => {
    const stream = `usage-${randomUUID()}`;
    const records = ['ann', 'bob', 'cy', 'dee', 'eve'].map((p, n) => record(p, n));
    const ev = batch(stream, 1, records);
    expect(await appender().append(ev)).toBe('appended');
    const rows = await rowsOf(stream);
    expect(rows).toHaveLength(5);
    expect(rows.map((r) => r.item)).toEqual([0, 1, 2, 3, 4]);
    expect(rows.map((r) => r.entry.source.item)).toEqual([0, 1, 2, 3, 4]);
    // Each record is attributed to its own principal (not the batch's metadata actor) and keeps its request id.
    expect(rows.map((r) => r.entry.actor.principal)).toEqual(['ann', 'bob', 'cy', 'dee', 'eve']);
    expect(rows.map((r) => r.principal)).toEqual(['ann', 'bob', 'cy', 'dee', 'eve']);
    expect(rows.map((r) => r.entry.request?.id)).toEqual(records.map((r) => r.requestId));
    expect(rows.every((r) => r.entry.category === 'key_usage' && r.entry.source.eventId === ev.eventId && r.entry.source.eventType === 'KeyUsageBatchRecorded')).toBe(true);
    // Contiguous leaves; each hash chains on the previous one.
    for (let n = 1; n < rows.length; n++) {
      expect(rows[n].leaf).toBe(rows[n - 1].leaf + 1);
      expect(rows[n].hash.equals(chainHash(rows[n - 1].hash, rows[n].text))).toBe(true);
    }
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('low-load linger: after a quiet spell an append starts at once; a trickle right after waits for company, and a full batch goes at once', async () => {
    const stream = `usage-${randomUUID()}`;
    // A linger no test run outlasts: what is appended inside it can only go when the batch fills.
    const a = new TrailAppender({ pool, signer, checkpointEvery: 1_000, lingerMs: 3_600_000, maxBatch: 4 });
    expect(await a.append(single(stream, 1))).toBe('appended');
    expect(a.batchesStarted).toBe(1);
    const settled: number[] = [];
    const trickle = [2, 3, 4].map((pos) => a.append(single(stream, pos)).then((o) => {
      settled.push(pos);
      return o;
    }));
    // Macrotask turns pass (the flush would start on the next one): nothing started or settled.
    for (let n = 0; n < 5; n++) await new Promise((r) => setTimeout(r, 5));
    expect(a.batchesStarted).toBe(1);
    expect(settled).toEqual([]);
    expect(await rowsOf(stream)).toHaveLength(1);
    // The fourth waiting record fills the batch: all four go in one transaction, in order.
    const fourth = a.append(single(stream, 5));
    expect(await Promise.all([...trickle, fourth])).toEqual(['appended', 'appended', 'appended', 'appended']);
    expect(a.batchesStarted).toBe(2);
    expect((await rowsOf(stream)).map((r) => r.entry.source.streamPosition)).toEqual([1, 2, 3, 4, 5]);
    expect(await verify()).toMatchObject({ ok: true });
    // Without a linger, the same trickle takes a transaction per append.
    const b = new TrailAppender({ pool, signer, checkpointEvery: 1_000, maxBatch: 4 });
    for (const pos of [6, 7, 8]) expect(await b.append(single(stream, pos))).toBe('appended');
    expect(b.batchesStarted).toBe(3);
  });

  it('records a redelivered batch exactly once, also when both copies share one group commit', async () => {
    const stream = `usage-${randomUUID()}`;
    const ev = batch(stream, 1, [record('a', 1), record('b', 2), record('c', 3)]);
    const a = appender();
    expect(await Promise.all([a.append(ev), a.append(ev)])).toEqual(['appended', 'duplicate']);
    expect(await a.append(ev)).toBe('duplicate');
    // A fresh process (nothing in memory) and the same event: still once.
    expect(await appender().append(ev)).toBe('duplicate');
    expect((await rowsOf(stream)).map((r) => r.item)).toEqual([0, 1, 2]);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('appends only the missing records of a batch already partly in the trail', async () => {
    const stream = `usage-${randomUUID()}`;
    const records = [record('a', 1), record('b', 2), record('c', 3), record('d', 4)];
    const ev = batch(stream, 1, records);
    // The trail holds the first two records of the event (same event id and position).
    expect(await appender().append({ ...ev, data: { records: records.slice(0, 2) } })).toBe('appended');
    expect(await appender().append(ev)).toBe('appended');
    const rows = await rowsOf(stream);
    expect(rows.map((r) => r.item)).toEqual([0, 1, 2, 3]);
    expect(rows.map((r) => r.entry.request?.id)).toEqual(records.map((r) => r.requestId));
    // The same position under another event id is not a continuation: a duplicate, nothing appended.
    expect(await appender().append(batch(stream, 1, [record('x', 1), record('y', 2), record('z', 3), record('w', 4), record('v', 5)]))).toBe('duplicate');
    expect(await rowsOf(stream)).toHaveLength(4);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('chains single KeyUsageRecorded events and batches on one stream (mixed trail)', async () => {
    const stream = `usage-${randomUUID()}`;
    const a = appender();
    await a.appendMany([single(stream, 1), single(stream, 2)]);
    await a.append(batch(stream, 3, [record('m', 1), record('n', 2)]));
    await a.append(single(stream, 4));
    const rows = await rowsOf(stream);
    expect(rows.map((r) => [r.entry.source.streamPosition, r.entry.source.item ?? null, r.item])).toEqual([[1, null, 0], [2, null, 0], [3, 0, 0], [3, 1, 1], [4, null, 0]]);
    expect(rows.every((r) => r.entry.category === 'key_usage')).toBe(true);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('two writers on one trail never fork the chain: each reloads what it knows when the other moved the head', async () => {
    const stream = `usage-${randomUUID()}`;
    const a = appender();
    const b = appender();
    expect(await a.append(batch(stream, 1, [record('a', 1), record('a', 2)]))).toBe('appended');
    // b appends position 2 behind a's back; a's next event (3) must not be taken for a gap, nor 2 re-appended.
    const two = batch(stream, 2, [record('b', 1)]);
    expect(await b.append(two)).toBe('appended');
    expect(await a.append(two)).toBe('duplicate');
    expect(await a.append(batch(stream, 3, [record('a', 3)]))).toBe('appended');
    await Promise.all(Array.from({ length: 20 }, (_, n) => (n % 2 === 0 ? a : b).append(single(`usage-${randomUUID()}`, 1))));
    const rows = await rowsOf(stream);
    expect(rows.map((r) => r.entry.source.streamPosition)).toEqual([1, 1, 2, 3]);
    const { rows: leaves } = await admin.query<{ n: string; max: string }>('SELECT count(*) AS n, max(leaf_index) AS max FROM ekm_audit.trail');
    expect(leaves[0].n).toBe(leaves[0].max);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('repairs a gap from the source log, expanding a batch event read there into its records', async () => {
    const keys = new PostgresEventStore(pool, { service: 'keys' });
    const stream = `usage-${randomUUID()}`;
    for (const records of [[record('g', 1)], [record('g', 2), record('g', 3), record('g', 4)], [record('g', 5)]]) {
      await keys.appendToStream(stream, [{ type: 'KeyUsageBatchRecorded', data: { records }, meta: { actor: 'g' } }], { expectedVersion: ExpectedVersion.any });
    }
    const src = await readStreamRange(pool, 'keys', stream, 1, 3);
    const a = appender();
    expect(await a.append(src[0])).toBe('appended');
    // Position 2 never arrived: 3 brings it in from ekm_keys.events first, all three of its records.
    expect(await a.append(src[2])).toBe('appended');
    expect(a.gapFilledTotal).toBe(3);
    expect((await rowsOf(stream)).map((r) => `${r.entry.source.streamPosition}.${r.item}`)).toEqual(['1.0', '2.0', '2.1', '2.2', '3.0']);
    expect(await a.append(src[1])).toBe('duplicate');
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('quarantines a batch event without usable records instead of dropping it or stalling the stream', async () => {
    const stream = `usage-${randomUUID()}`;
    const a = appender();
    expect(await a.append({ ...batch(stream, 1, []), data: { records: 'nope' } })).toBe('appended');
    expect(await a.append(batch(stream, 2, [record('q', 1)]))).toBe('appended');
    const rows = await rowsOf(stream);
    expect(rows.map((r) => r.entry.category)).toEqual(['quarantine', 'key_usage']);
    expect(await verify()).toMatchObject({ ok: true });
  });
});

describe('trail migration to batches and plain columns (Postgres)', () => {
  it('a trail written before the migration verifies after it, keeps its query columns, and grows on with batches', async () => {
    const db = await createTestDatabase('ekm_audit_migrate');
    await migrateServiceSchema({ adminUrl: db.url, service: 'audit', extraMigrations: [AuditTrailMigration] });
    const pool = new Pool({ connectionString: db.url, max: 4 });
    const dataDir = mkdtempSync(join(tmpdir(), 'ekm-audit-migrate-'));
    try {
      // Rows as the previous code wrote them: entry and hash only, query columns GENERATED from the entry.
      const stream = `usage-${randomUUID()}`;
      let prev = GENESIS_HASH;
      for (let leaf = 1; leaf <= 40; leaf++) {
        const text = buildEntry(single(stream, leaf, leaf % 2 === 0 ? 'old-even' : 'old-odd'), leaf, new Date()).text;
        prev = chainHash(prev, text);
        await pool.query('INSERT INTO ekm_audit.trail (leaf_index, entry, hash) VALUES ($1, $2, $3)', [leaf, text, prev]);
      }
      const before = (await pool.query('SELECT leaf_index, principal, time_ms, source_stream_position, key_id FROM ekm_audit.trail ORDER BY leaf_index')).rows;

      await migrateServiceSchema({ adminUrl: db.url, service: 'audit', extraMigrations: [AuditTrailMigration, AuditTrailBatchMigration] });
      const { rows: cols } = await pool.query<{ attname: string; attgenerated: string }>(
        `SELECT attname, attgenerated FROM pg_attribute WHERE attrelid = 'ekm_audit.trail'::regclass AND attnum > 0 AND NOT attisdropped`);
      expect(cols.filter((c) => c.attgenerated !== '')).toEqual([]);
      expect(cols.map((c) => c.attname)).not.toContain('appended_at');
      const { rows: idx } = await pool.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE schemaname = 'ekm_audit' AND tablename = 'trail' ORDER BY 1`);
      expect(idx.map((r) => r.indexname)).toEqual(['trail_key', 'trail_pkey', 'trail_principal', 'trail_source_stream_item', 'trail_tenant', 'trail_time']);
      expect((await pool.query('SELECT leaf_index, principal, time_ms, source_stream_position, key_id FROM ekm_audit.trail ORDER BY leaf_index')).rows).toEqual(before);

      const root = SoftwareRootOfTrust.open({ dataDir, env: 'development', secret: 'audit-migrate-test-secret', scrypt: { N: 1 << 14, r: 8, p: 1 } });
      const signer = await AuditSigner.load(pool, root);
      await root.close();
      const verify = (): Promise<VerifyResult> => verifyTrail(new TrailReader(pool), { verifySignature: (p, s) => signer.verify(p, s), batchSize: 16 });
      expect(await verify()).toMatchObject({ ok: true, entries: 40 });

      const a = new TrailAppender({ pool, signer, checkpointEvery: 25 });
      // A redelivered old event is still a duplicate; the stream continues with a batch at 41.
      expect(await a.append(single(stream, 40))).toBe('duplicate');
      expect(await a.append(batch(stream, 41, [record('new', 1), record('new', 2)]))).toBe('appended');
      expect(await verify()).toMatchObject({ ok: true, entries: 42, checkpoints: 1, signedThrough: 41 });
      const page = await new TrailReader(pool).query({ principal: 'new', limit: 10, order: 'asc' });
      expect(page.entries.map((e) => e.leafIndex)).toEqual([41, 42]);
      expect((await new TrailReader(pool).query({ principal: 'old-even', limit: 100, order: 'asc' })).entries).toHaveLength(20);
    } finally {
      await pool.end();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
