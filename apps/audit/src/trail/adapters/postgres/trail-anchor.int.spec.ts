/**
 * The trail against a hostile superuser who bypasses the triggers (`session_replication_role =
 * replica`) and against records it cannot store. The published checkpoints (EKM_AUDIT in the service)
 * are emulated by the list of checkpoints signed before the tampering: verify trusts them over rows,
 * and the signer anchors on them, so a re-hashed chain, deleted checkpoint rows, a forged entry after
 * the head or a restored older dump are all found, and none of them gets signed.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { SoftwareRootOfTrust } from '@ekm/crypto';
import { migrateServiceSchema } from '@ekm/event-store';
import { createTestDatabase } from '../../../../../../test/support/pg';
import { chainHash } from '../../application/hash-chain';
import { verifyTrail, type VerifyResult } from '../../application/verify-trail';
import type { SourceEvent } from '../../domain/audit-entry';
import { AuditSigner } from '../signing/audit-signer';
import { AuditTrailMigration } from './audit-schema.migration';
import { AuditTrailBatchMigration } from './trail-batch.migration';
import { FROM_ENTRY_SQL, TRAIL_COLUMNS } from './trail-columns';

/** A careful attacker also rewrites the row's query columns so they match the edited entry. */
const syncColumns = (c: Client, leaf: number): Promise<unknown> =>
  c.query(`UPDATE ekm_audit.trail SET (${TRAIL_COLUMNS.join(', ')}) = (SELECT ${FROM_ENTRY_SQL.join(', ')}) WHERE leaf_index = $1`, [leaf]);
import type { SignedCheckpoint } from './chain-guard';
import { TrailAppender } from './trail-appender';
import { TrailReader } from './trail-reader';

jest.setTimeout(120_000);

const EVERY = 100;
const usage = (stream: string, pos: number, data: Record<string, unknown> = {}): SourceEvent => ({
  service: 'keys', eventId: randomUUID(), type: 'KeyUsageRecorded', streamId: stream, streamPosition: pos, globalPosition: String(pos),
  recordedAt: new Date(1_700_000_000_000 + pos * 1000).toISOString(),
  data: { requestId: randomUUID(), principal: 'alice', tenant: 'acme', operation: 'Encrypt', keyId: 'k1', keyVersion: 1, outcome: 'ALLOWED', ...data },
  meta: { actor: 'alice' },
});

interface Trail {
  readonly db: { name: string; url: string };
  readonly pool: Pool;
  readonly admin: Client;
  appender: TrailAppender;
  readonly stream: string;
  /** What EKM_AUDIT would hold: every checkpoint signed so far. */
  published: SignedCheckpoint[];
}

describe('trail anchored outside the database (superuser, triggers bypassed)', () => {
  let signer: AuditSigner;
  let dataDir: string;
  const open: Trail[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ekm-audit-anchor-'));
  });
  afterAll(async () => {
    for (const t of open) {
      await t.admin.end().catch(() => undefined);
      await t.pool.end().catch(() => undefined);
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  const appenderFor = (t: Pick<Trail, 'pool' | 'published'>): TrailAppender => new TrailAppender({
    pool: t.pool, signer, checkpointEvery: EVERY, sources: ['keys'],
    anchor: { latest: () => Promise.resolve(t.published.length > 0 ? t.published[t.published.length - 1] : null) },
  });

  async function attach(db: { name: string; url: string }, published: SignedCheckpoint[], stream: string): Promise<Trail> {
    const pool = new Pool({ connectionString: db.url, max: 4 });
    const admin = new Client({ connectionString: db.url });
    await admin.connect();
    signer ??= await (async () => {
      const root = SoftwareRootOfTrust.open({ dataDir, env: 'development', secret: 'audit-anchor-test-secret', scrypt: { N: 1 << 14, r: 8, p: 1 } });
      try {
        return await AuditSigner.load(pool, root);
      } finally {
        await root.close();
      }
    })();
    const t: Trail = { db, pool, admin, stream, published, appender: null as unknown as TrailAppender };
    t.appender = appenderFor(t);
    open.push(t);
    return t;
  }

  async function freshTrail(n = 303): Promise<Trail> {
    const db = await createTestDatabase('ekm_audit_anchor');
    await migrateServiceSchema({ adminUrl: db.url, service: 'audit', extraMigrations: [AuditTrailMigration, AuditTrailBatchMigration] });
    const t = await attach(db, [], `usage-${randomUUID()}`);
    // The first trail generates the signing key; later ones copy its row so one key signs every trail.
    if (open.length > 1) {
      const { rows } = await open[0].admin.query('SELECT key_id, public_key, wrapped_private FROM ekm_audit.signing_key');
      await t.admin.query('INSERT INTO ekm_audit.signing_key (id, key_id, public_key, wrapped_private) VALUES (1, $1, $2, $3) ON CONFLICT DO NOTHING', [rows[0].key_id, rows[0].public_key, rows[0].wrapped_private]);
    }
    await t.appender.appendMany(Array.from({ length: n }, (_, i) => usage(t.stream, i + 1)));
    await publish(t);
    return t;
  }

  /** The relay's job: every stored checkpoint goes to the published copy. */
  async function publish(t: Trail): Promise<void> {
    const { rows } = await t.admin.query<{ tree_size: string; root: Buffer; payload: string; signature: Buffer }>('SELECT tree_size, root, payload, signature FROM ekm_audit.checkpoints ORDER BY tree_size');
    const have = new Set(t.published.map((c) => c.treeSize));
    for (const r of rows) if (!have.has(Number(r.tree_size))) t.published.push({ treeSize: Number(r.tree_size), root: r.root, payload: r.payload, signature: r.signature });
    t.published.sort((a, b) => a.treeSize - b.treeSize);
  }

  const asSuperuser = async (t: Trail, sql: (c: Client) => Promise<void>): Promise<void> => {
    await t.admin.query('SET session_replication_role = replica');
    try {
      await sql(t.admin);
    } finally {
      await t.admin.query('SET session_replication_role = origin');
    }
  };

  /** verify as the service runs it: stored checkpoint rows plus the published ones. */
  const verify = (t: Trail): Promise<VerifyResult> => {
    const reader = new TrailReader(t.pool);
    return verifyTrail({
      head: () => reader.head(), scan: (a, l) => reader.scan(a, l),
      checkpoints: async () => [...(await reader.checkpoints()), ...t.published],
    }, { verifySignature: (p, s) => signer.verify(p, s), batchSize: 64 });
  };

  const rehashFrom = async (c: Client, from: number): Promise<void> => {
    const { rows } = await c.query<{ leaf_index: string; entry: string; hash: Buffer }>('SELECT leaf_index, entry, hash FROM ekm_audit.trail WHERE leaf_index >= $1 ORDER BY leaf_index', [from - 1]);
    let prev = rows[0].hash;
    for (const row of rows.slice(1)) {
      prev = chainHash(prev, row.entry);
      await c.query('UPDATE ekm_audit.trail SET hash = $1 WHERE leaf_index = $2', [prev, row.leaf_index]);
    }
  };

  it('appends records it cannot store as quarantined entries and keeps chaining and signing', async () => {
    const t = await freshTrail(10);
    const hostile = [
      usage(t.stream, 11, { keyVersion: 2 ** 31 + 1 }),
      usage(t.stream, 12, { encryptionContext: { x: 'a\ud800' } }),
      { ...usage(t.stream, 13), recordedAt: 'not a time' },
    ];
    const out = await t.appender.appendMany([...hostile, usage(t.stream, 14), usage(t.stream, 15)]);
    expect(out).toEqual(['appended', 'appended', 'appended', 'appended', 'appended']);
    const { rows } = await t.admin.query<{ leaf_index: string; category: string; entry: string }>('SELECT leaf_index, category, entry FROM ekm_audit.trail WHERE leaf_index > 10 ORDER BY leaf_index');
    expect(rows.map((r) => r.category)).toEqual(['quarantine', 'quarantine', 'quarantine', 'key_usage', 'key_usage']);
    expect(rows[0].entry).not.toMatch(/2147483649/);
    expect(t.appender.quarantinedTotal).toBe(3);
    expect(await verify(t)).toMatchObject({ ok: true, entries: 15 });
    // Redelivery of a quarantined record is a duplicate, not a second entry.
    expect(await t.appender.append(hostile[0])).toBe('duplicate');
    expect(await t.appender.checkpointIfBehind()).toBe(15);
  });

  it('never fails a batch for one member Postgres refuses: that row alone is quarantined', async () => {
    const t = await freshTrail(5);
    // A rule the pre-check does not know about stands in for any value Postgres refuses.
    await t.admin.query(`ALTER TABLE ekm_audit.trail ADD CONSTRAINT no_poison CHECK (entry NOT LIKE '%poison-pill%')`);
    const batch = Array.from({ length: 20 }, (_, i) => usage(t.stream, 6 + i, i === 7 ? { principal: 'poison-pill' } : {}));
    expect(await t.appender.appendMany(batch)).toEqual(batch.map(() => 'appended'));
    const { rows } = await t.admin.query<{ category: string; entry: string }>(`SELECT category, entry FROM ekm_audit.trail WHERE category = 'quarantine'`);
    expect(rows).toHaveLength(1);
    expect(JSON.parse(rows[0].entry).quarantine.reason).toMatch(/SQLSTATE 23514/);
    expect(await verify(t)).toMatchObject({ ok: true, entries: 25 });
  });

  it.each([
    ['an edit', 57, (c: Client) => c.query(`UPDATE ekm_audit.trail SET entry = replace(entry, '"alice"', '"mallory"') WHERE leaf_index = 57`)],
    ['a deletion', 99, (c: Client) => c.query('DELETE FROM ekm_audit.trail WHERE leaf_index = 99')],
    ['an insertion', 120, async (c: Client) => {
      await c.query('UPDATE ekm_audit.trail SET leaf_index = leaf_index + 1000000 WHERE leaf_index >= 120');
      await c.query('UPDATE ekm_audit.trail SET leaf_index = leaf_index - 999999 WHERE leaf_index >= 1000000');
      await c.query(`INSERT INTO ekm_audit.trail (leaf_index, entry, hash) VALUES (120, '{}', $1)`, [Buffer.alloc(32, 7)]);
    }],
    ['a reorder', 40, async (c: Client) => {
      await c.query('UPDATE ekm_audit.trail SET leaf_index = CASE leaf_index WHEN 40 THEN 1000040 ELSE 1000041 END WHERE leaf_index IN (40, 41)');
      await c.query('UPDATE ekm_audit.trail SET leaf_index = CASE leaf_index WHEN 1000040 THEN 41 ELSE 40 END WHERE leaf_index IN (1000040, 1000041)');
    }],
    ['a tail cut (checkpoint rows deleted too)', 251, async (c: Client) => {
      await c.query('DELETE FROM ekm_audit.trail WHERE leaf_index > 250');
      await c.query('DELETE FROM ekm_audit.checkpoints WHERE tree_size > 200');
    }],
    ['a re-hashed chain', 101, async (c: Client) => {
      await c.query(`UPDATE ekm_audit.trail SET entry = replace(entry, '"alice"', '"mallory"') WHERE leaf_index = 130`);
      await syncColumns(c, 130);
      await rehashFrom(c, 130);
    }],
  ])('finds %s and names the first bad index (%i); nothing the signer signs afterwards hides it', async (what, first, sql) => {
    const t = await freshTrail();
    await asSuperuser(t, async (c) => { await sql(c); });
    expect(await verify(t)).toMatchObject({ ok: false, firstBadIndex: first });
    // New entries arrive: they are appended (no stall); whatever gets signed is a head this service chained.
    const fresh = `usage-${randomUUID()}`;
    await t.appender.appendMany(Array.from({ length: 5 }, (_, i) => usage(fresh, i + 1)));
    const signed = await t.appender.checkpointIfBehind();
    await publish(t);
    const after = await verify(t);
    expect(after.ok).toBe(false);
    // Where the stored head itself changed (renumbered, cut, re-hashed) the signer refuses outright and
    // remembers where (verify in the service reports the smaller of its index and the chain walk's).
    if (/insertion|cut|re-hashed/.test(what)) {
      expect(signed).toBeNull();
      expect(t.appender.guard.untrustedReason).not.toBeNull();
      expect(Math.min(after.firstBadIndex ?? Infinity, t.appender.guard.untrustedIndex ?? Infinity)).toBeLessThanOrEqual(first);
    } else {
      expect(after.firstBadIndex).toBe(first);
    }
  });

  it('re-hashed chain plus deleted checkpoint rows: verify trusts the published copy, and neither this process nor a restarted one re-signs', async () => {
    const t = await freshTrail();
    await asSuperuser(t, async (c) => {
      await c.query(`UPDATE ekm_audit.trail SET entry = replace(entry, '"alice"', '"mallory"') WHERE leaf_index = 130`);
      await syncColumns(c, 130);
      await rehashFrom(c, 130);
      await c.query('DELETE FROM ekm_audit.checkpoints WHERE tree_size >= 200');
    });
    const r = await verify(t);
    expect(r).toMatchObject({ ok: false, firstBadIndex: 101 });
    expect(r.reason).toMatch(/differs from its signed checkpoint/);
    expect(await t.appender.checkpointIfBehind()).toBeNull();
    const restarted = appenderFor(t);
    expect(await restarted.checkpointIfBehind()).toBeNull();
    expect(restarted.guard.untrustedReason).toMatch(/differs from its signed checkpoint/);
    const { rows } = await t.admin.query<{ n: string }>('SELECT count(*) AS n FROM ekm_audit.checkpoints WHERE tree_size >= 200');
    expect(Number(rows[0].n)).toBe(0);
  });

  it('a correctly chained forged entry after the head is never signed and verify names it', async () => {
    const t = await freshTrail();
    await asSuperuser(t, async (c) => {
      const { rows } = await c.query<{ entry: string; hash: Buffer }>('SELECT entry, hash FROM ekm_audit.trail WHERE leaf_index = 303');
      const forged = rows[0].entry.replace('"alice"', '"ghost"').replace(/"eventId":"[^"]+"/, `"eventId":"${randomUUID()}"`).replace(/"leafIndex":303/, '"leafIndex":304').replace(/"streamPosition":303/, '"streamPosition":304');
      await c.query('INSERT INTO ekm_audit.trail (leaf_index, entry, hash) VALUES (304, $1, $2)', [forged, chainHash(rows[0].hash, forged)]);
      await syncColumns(c, 304);
    });
    // The chain alone is intact: only the signer's own bookkeeping can tell.
    expect(await verify(t)).toMatchObject({ ok: true, entries: 304 });
    expect(await t.appender.checkpointIfBehind()).toBeNull();
    expect(t.appender.guard.untrustedReason).toMatch(/entry 304 was not appended by this service/);
    expect(t.appender.guard.untrustedIndex).toBe(304);
  });

  it('a forged entry whose source names are objects (own toString) is named, not a crash of the guard', async () => {
    const t = await freshTrail();
    await asSuperuser(t, async (c) => {
      const { rows } = await c.query<{ entry: string; hash: Buffer }>('SELECT entry, hash FROM ekm_audit.trail WHERE leaf_index = 303');
      const forged = rows[0].entry.replace(/"eventId":"[^"]+"/, '"eventId":{"toString":""}').replace('"service":"keys"', '"service":{"toString":"","valueOf":""}').replace(/"leafIndex":303/, '"leafIndex":304');
      expect(forged).toContain('"eventId":{"toString":""}');
      await c.query('INSERT INTO ekm_audit.trail (leaf_index, entry, hash) VALUES (304, $1, $2)', [forged, chainHash(rows[0].hash, forged)]);
      await syncColumns(c, 304).catch(() => undefined);
    });
    expect(await t.appender.checkpointIfBehind()).toBeNull();
    expect(t.appender.guard.untrustedReason).toMatch(/entry 304 was not appended by this service/);
  });

  it('a restore of an older dump is found: the trail ends before the newest published checkpoint, and grows on without being signed', async () => {
    const t = await freshTrail(150);
    const dump = execFileSync('pg_dump', ['--no-owner', '--no-privileges', t.db.url], { maxBuffer: 256 * 1024 * 1024 });
    await t.appender.appendMany(Array.from({ length: 153 }, (_, i) => usage(t.stream, 151 + i)));
    await publish(t);
    expect(t.published.map((c) => c.treeSize)).toEqual([100, 200, 300]);
    const older = await createTestDatabase('ekm_audit_restored');
    execFileSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', older.url], { input: dump, stdio: ['pipe', 'ignore', 'pipe'] });
    const restored = await attach(older, t.published, t.stream);
    expect(await verify(restored)).toMatchObject({ ok: false, entries: 150, firstBadIndex: 151 });
    // The service restarted on the restored database keeps appending (no stall) but signs nothing.
    const fresh = `usage-${randomUUID()}`;
    expect(await restored.appender.appendMany(Array.from({ length: 60 }, (_, i) => usage(fresh, i + 1)))).toHaveLength(60);
    expect(await restored.appender.checkpointIfBehind()).toBeNull();
    expect(restored.appender.guard.untrustedReason).toMatch(/restored from an older dump/);
    const { rows } = await restored.admin.query<{ n: string }>('SELECT max(tree_size) AS n FROM ekm_audit.checkpoints');
    expect(Number(rows[0].n)).toBe(100);
    const r = await verify(restored);
    expect(r.ok).toBe(false);
    expect(r.firstBadIndex).toBeLessThanOrEqual(151);
  });
});
