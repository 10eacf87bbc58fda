/**
 * The stack bench's trail prefill (test/bench/trail-prefill.ts) writes a chain the audit service accepts:
 * verifyTrail (what `audit verify` runs) finds every entry, the signed checkpoints valid, and the
 * service's own appender continues the prefilled chain; an edited prefilled row is found.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { SoftwareRootOfTrust } from '@ekm/crypto';
import { migrateServiceSchema } from '@ekm/event-store';
import { AuditTrailMigration } from '../../apps/audit/src/trail/adapters/postgres/audit-schema.migration';
import { AuditTrailBatchMigration } from '../../apps/audit/src/trail/adapters/postgres/trail-batch.migration';
import { TrailAppender } from '../../apps/audit/src/trail/adapters/postgres/trail-appender';
import { TrailReader } from '../../apps/audit/src/trail/adapters/postgres/trail-reader';
import { AuditSigner } from '../../apps/audit/src/trail/adapters/signing/audit-signer';
import { verifyTrail } from '../../apps/audit/src/trail/application/verify-trail';
import { prefillTrail } from '../bench/trail-prefill';
import { createTestDatabase } from './pg';

const SECRET = 'trail-prefill-spec-root-01';

describe('stack bench trail prefill', () => {
  let url: string;
  let dataDir: string;
  let pool: Pool;

  beforeAll(async () => {
    url = (await createTestDatabase('ekm_prefill')).url;
    await migrateServiceSchema({ adminUrl: url, service: 'audit', extraMigrations: [AuditTrailMigration, AuditTrailBatchMigration] });
    dataDir = mkdtempSync(join(tmpdir(), 'ekm-prefill-spec-'));
    pool = new Pool({ connectionString: url, max: 2 });
  });
  afterAll(async () => {
    await pool.end();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const signer = async (): Promise<AuditSigner> => {
    const root = SoftwareRootOfTrust.open({ dataDir, env: 'development', secret: SECRET });
    try {
      return await AuditSigner.load(pool, root);
    } finally {
      await root.close();
    }
  };

  it('writes a chain verifyTrail accepts, which the service appender continues', async () => {
    const r = await prefillTrail({ databaseUrl: url, dataDir, rootSecret: SECRET, entries: 2_345, checkpointEvery: 1000, batchEntries: 1000, recordsPerEvent: 300 });
    expect(r.head).toBe(2_345);
    expect(r.markedRelayed).toBe(true);
    const s = await signer();
    let v = await verifyTrail(new TrailReader(pool), { verifySignature: (p, sig) => s.verify(p, sig) });
    expect(v).toMatchObject({ ok: true, entries: 2_345 });
    expect(v.checkpoints).toBeGreaterThanOrEqual(3);

    // The service's appender, started over the prefilled trail, chains on its head.
    const appender = new TrailAppender({ pool, signer: s, checkpointEvery: 1000 });
    const out = await appender.append({
      service: 'keys', eventId: randomUUID(), type: 'KeyUsageRecorded', streamId: `usage-${randomUUID()}`, streamPosition: 1, globalPosition: '1', recordedAt: new Date().toISOString(),
      data: { requestId: randomUUID(), principal: 'p', tenant: 't', operation: 'Decrypt', keyId: 'k', keyVersion: 1, encryptionContext: {}, outcome: 'ALLOWED', at: new Date().toISOString() }, meta: {},
    });
    expect(out).toBe('appended');
    expect(await appender.checkHead()).toEqual({ trusted: true, head: 2_346 });
    v = await verifyTrail(new TrailReader(pool), { verifySignature: (p, sig) => s.verify(p, sig) });
    expect(v).toMatchObject({ ok: true, entries: 2_346 });
  });

  it('an edited prefilled entry fails verification', async () => {
    // As an attacker with the owner's rights would: past the append-only trigger.
    await pool.query('ALTER TABLE ekm_audit.trail DISABLE TRIGGER USER');
    await pool.query(`UPDATE ekm_audit.trail SET entry = replace(entry, 'service:bench-prefill', 'service:someone-else') WHERE leaf_index = 1500`);
    const s = await signer();
    const v = await verifyTrail(new TrailReader(pool), { verifySignature: (p, sig) => s.verify(p, sig) });
    expect(v.ok).toBe(false);
  });
});
