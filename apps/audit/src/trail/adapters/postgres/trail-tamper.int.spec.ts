/**
 * Tampering as a superuser (triggers disabled): edit, delete, insert, reorder one entry, cut the tail,
 * re-hash after an edit, forge a checkpoint signature. verify must catch every one and name the first
 * bad index. Each case runs inside BEGIN..ROLLBACK so the trail is intact for the next.
 */
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
import { TrailAppender } from './trail-appender';
import { TrailReader } from './trail-reader';

const N = 300;
const EVERY = 100;

const usage = (stream: string, pos: number): SourceEvent => ({
  service: 'keys', eventId: randomUUID(), type: 'KeyUsageRecorded', streamId: stream, streamPosition: pos, globalPosition: String(pos),
  recordedAt: new Date(1_700_000_000_000 + pos * 1000).toISOString(),
  data: { requestId: randomUUID(), principal: 'alice', tenant: 'acme', operation: 'generate-data-key', keyId: 'k1', keyVersion: 1, encryptionContext: { tenant: 'acme', collection: 'docs' }, outcome: 'ALLOWED', at: 'x' },
  meta: { actor: 'alice' },
});

describe('audit trail tamper evidence (superuser)', () => {
  let db: { url: string };
  let pool: Pool;
  let admin: Client;
  let signer: AuditSigner;
  let dataDir: string;

  beforeAll(async () => {
    db = await createTestDatabase('ekm_audit_tamper');
    await migrateServiceSchema({ adminUrl: db.url, service: 'audit', extraMigrations: [AuditTrailMigration, AuditTrailBatchMigration] });
    pool = new Pool({ connectionString: db.url, max: 4 });
    admin = new Client({ connectionString: db.url });
    await admin.connect();
    dataDir = mkdtempSync(join(tmpdir(), 'ekm-audit-tamper-'));
    const root = SoftwareRootOfTrust.open({ dataDir, env: 'development', secret: 'audit-tamper-test-secret', scrypt: { N: 1 << 14, r: 8, p: 1 } });
    signer = await AuditSigner.load(pool, root);
    const appender = new TrailAppender({ pool, signer, checkpointEvery: EVERY });
    const stream = `usage-${randomUUID()}`;
    await appender.appendMany(Array.from({ length: N }, (_, i) => usage(stream, i + 1)));
    // N is a multiple of EVERY: add a few unsigned entries after the last checkpoint.
    await appender.appendMany([N + 1, N + 2, N + 3].map((p) => usage(stream, p)));
    await root.close();
  });
  afterAll(async () => {
    await admin?.end();
    await pool?.end();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const verifyIn = (c: Client): Promise<VerifyResult> => verifyTrail(new TrailReader(c as unknown as Pool), { verifySignature: (p, s) => signer.verify(p, s), batchSize: 64 });

  async function tampered(sql: (c: Client) => Promise<void>): Promise<VerifyResult> {
    await admin.query('BEGIN');
    try {
      await admin.query('ALTER TABLE ekm_audit.trail DISABLE TRIGGER USER');
      await admin.query('ALTER TABLE ekm_audit.checkpoints DISABLE TRIGGER USER');
      await sql(admin);
      return await verifyIn(admin);
    } finally {
      await admin.query('ROLLBACK');
    }
  }

  it('signs a checkpoint every N entries and verifies an intact trail', async () => {
    const { rows } = await admin.query('SELECT tree_size::int AS n FROM ekm_audit.checkpoints ORDER BY 1');
    expect(rows.map((r) => r.n)).toEqual([100, 200, 300]);
    expect(await verifyIn(admin)).toMatchObject({ ok: true, entries: N + 3, firstBadIndex: null, checkpoints: 3, signedThrough: 300 });
  });

  it('the trail, checkpoints and signing key refuse UPDATE, DELETE and TRUNCATE for the owner and the app role', async () => {
    for (const t of ['trail', 'checkpoints', 'signing_key']) {
      await expect(admin.query(`DELETE FROM ekm_audit.${t}`)).rejects.toThrow(/append-only/);
      await expect(admin.query(`TRUNCATE ekm_audit.${t}`)).rejects.toThrow(/append-only/);
    }
    await expect(admin.query(`UPDATE ekm_audit.trail SET hash = hash`)).rejects.toThrow(/append-only/);
    const u = new URL(db.url);
    u.username = 'ekm_audit';
    const app = new Client({ connectionString: u.toString() });
    await app.connect();
    try {
      await expect(app.query(`DELETE FROM ekm_audit.trail WHERE leaf_index = 1`)).rejects.toMatchObject({ code: '42501' });
      await expect(app.query(`UPDATE ekm_audit.checkpoints SET key_id = 'x'`)).rejects.toMatchObject({ code: '42501' });
    } finally {
      await app.end();
    }
  });

  it('stores the signing key only wrapped (no plaintext seed in the row)', async () => {
    const { rows } = await admin.query('SELECT public_key, wrapped_private FROM ekm_audit.signing_key');
    expect(rows).toHaveLength(1);
    expect(rows[0].wrapped_private.length).toBeGreaterThanOrEqual(40); // KWP of 32 bytes
  });

  it.each([1, 57, 150, 302])('finds an edited entry at %i', async (i) => {
    const r = await tampered((c) => c.query(`UPDATE ekm_audit.trail SET entry = replace(entry, '"alice"', '"mallory"') WHERE leaf_index = $1`, [i]).then(() => undefined));
    expect(r).toMatchObject({ ok: false, firstBadIndex: i });
  });

  it.each([1, 99, 250])('finds a deleted entry at %i', async (i) => {
    const r = await tampered((c) => c.query(`DELETE FROM ekm_audit.trail WHERE leaf_index = $1`, [i]).then(() => undefined));
    expect(r).toMatchObject({ ok: false, firstBadIndex: i });
    expect(r.reason).toMatch(/missing/);
  });

  it.each([1, 120, 303])('finds an entry inserted at %i (later ones renumbered)', async (i) => {
    const r = await tampered(async (c) => {
      await c.query(`UPDATE ekm_audit.trail SET leaf_index = leaf_index + 1000000 WHERE leaf_index >= $1`, [i]);
      await c.query(`UPDATE ekm_audit.trail SET leaf_index = leaf_index - 999999 WHERE leaf_index >= 1000000`);
      const { rows } = await c.query(`SELECT entry FROM ekm_audit.trail WHERE leaf_index = $1`, [i + 1]);
      const forged = String(rows[0].entry).replace('"alice"', '"ghost"').replace(/"eventId":"[^"]+"/, `"eventId":"${randomUUID()}"`).replace(/"streamPosition":\d+/, '"streamPosition":99999');
      await c.query(`INSERT INTO ekm_audit.trail (leaf_index, entry, hash) VALUES ($1, $2, $3)`, [i, forged, Buffer.alloc(32, 7)]);
    });
    expect(r).toMatchObject({ ok: false, firstBadIndex: i });
  });

  it('finds two swapped (reordered) entries, naming the first', async () => {
    const r = await tampered(async (c) => {
      await c.query(`UPDATE ekm_audit.trail SET leaf_index = CASE leaf_index WHEN 40 THEN 1000040 ELSE 1000041 END WHERE leaf_index IN (40, 41)`);
      await c.query(`UPDATE ekm_audit.trail SET leaf_index = CASE leaf_index WHEN 1000040 THEN 41 ELSE 40 END WHERE leaf_index IN (1000040, 1000041)`);
    });
    expect(r).toMatchObject({ ok: false, firstBadIndex: 40 });
  });

  it('finds a query column edited apart from its entry (the chain covers what the columns copy)', async () => {
    for (const [col, value] of [['principal', 'mallory'], ['tenant', 'other-tenant'], ['key_id', 'k-forged'], ['time_ms', 1], ['source_item', 3], ['category', 'quarantine']] as const) {
      const r = await tampered((c) => c.query(`UPDATE ekm_audit.trail SET ${col} = $1 WHERE leaf_index = 77`, [value]).then(() => undefined));
      expect(r).toMatchObject({ ok: false, firstBadIndex: 77 });
      expect(r.reason).toMatch(/query columns differ/);
    }
  });

  it('finds a tail cut below the last checkpoint', async () => {
    const r = await tampered((c) => c.query(`DELETE FROM ekm_audit.trail WHERE leaf_index > 250`).then(() => undefined));
    expect(r).toMatchObject({ ok: false, entries: 250, firstBadIndex: 251 });
    expect(r.reason).toMatch(/tail was cut/);
  });

  it('finds an edit whose chain was fully re-hashed, at the checkpoint that covers it', async () => {
    const r = await tampered(async (c) => {
      await c.query(`UPDATE ekm_audit.trail SET entry = replace(entry, '"alice"', '"mallory"') WHERE leaf_index = 130`);
      // A careful attacker rewrites the query columns too, so they match the edited entry.
      await c.query(`UPDATE ekm_audit.trail SET (${TRAIL_COLUMNS.join(', ')}) = (SELECT ${FROM_ENTRY_SQL.join(', ')}) WHERE leaf_index = 130`);
      const { rows } = await c.query<{ leaf_index: string; entry: string; hash: Buffer }>(`SELECT leaf_index, entry, hash FROM ekm_audit.trail WHERE leaf_index >= 129 ORDER BY leaf_index`);
      let prev = rows[0].hash;
      for (const row of rows.slice(1)) {
        prev = chainHash(prev, row.entry);
        await c.query(`UPDATE ekm_audit.trail SET hash = $1 WHERE leaf_index = $2`, [prev, row.leaf_index]);
      }
    });
    expect(r).toMatchObject({ ok: false, firstBadIndex: 101 });
    expect(r.reason).toMatch(/differs from its signed checkpoint/);
  });

  it('rejects a forged checkpoint signature and a checkpoint re-signed with another key', async () => {
    const forged = await tampered((c) => c.query(`UPDATE ekm_audit.checkpoints SET signature = set_byte(signature, 0, get_byte(signature, 0) # 1) WHERE tree_size = 200`).then(() => undefined));
    expect(forged).toMatchObject({ ok: false, firstBadIndex: 200 });
    expect(forged.reason).toMatch(/invalid signature/);
    const moved = await tampered((c) => c.query(`UPDATE ekm_audit.checkpoints SET root = '\\x00'::bytea || substr(root, 2) WHERE tree_size = 100`).then(() => undefined));
    expect(moved).toMatchObject({ ok: false, firstBadIndex: 100 });
  });
});
