/**
 * The vector-store example end to end, against an in-process keys service and audit service (private
 * nats-server, fresh database, EKM_DELETION_MIN_DAYS=0): two tenants ingest, k-NN queries return the
 * right neighbours, rotate + rewrap moves every stored wrapped data key to the new version (old blobs
 * gone), and crypto-shredding: after tenant A's key is destroyed its vectors fail with EKM's
 * EKM_KEY_NOT_ACTIVE while tenant B's still work; the audit trail shows the KeyDestroyed and the
 * failed decrypts (and so does the keys event log).
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Pool } from 'pg';
import { subject } from '@ekm/contracts';
import type { ServiceApp } from '@ekm/service-kit';
import { Ekm, EkmError, parseEnvelope } from '@ekm/client';
import { VectorStore } from '../../examples/vector-store/src/vector-store';
import { migrateVectorStore } from '../../examples/vector-store/src/vector-store.schema';
import { parseAssets, run } from '../../examples/vector-store/src/main';
import { createTestDatabase } from '../support/pg';
import { startNats, stopServer, type ServerHandle } from '../support/servers';
import { waitFor } from '../support/wait-for';
import { auditEnv, startAuditApp } from './audit.support';
import { startKeysApp, type KeysApp } from './keys-crypto.support';
import { USAGE_RECORDS } from '../support/usage-records';

const DATA = join(__dirname, '..', '..', 'examples', 'vector-store', 'data');
const suffix = randomBytes(4).toString('hex');
const A = `acme-${suffix}`;
const B = `globex-${suffix}`;
const v = (...x: number[]) => Float32Array.from(x);

describe('vector-store example (e2e)', () => {
  let nats: ServerHandle;
  let db: { name: string; url: string };
  let keys: KeysApp;
  let audit: ServiceApp;
  let ekm: Ekm;
  let pool: Pool;
  let store: VectorStore;
  const fresh = () => new VectorStore(ekm, pool); // a new process's view: empty data-key caches

  beforeAll(async () => {
    [nats, db] = await Promise.all([startNats(), createTestDatabase('ekm_vs')]);
    keys = await startKeysApp(nats.url, db);
    // Both services run with EKM_AUTH=disabled (the shared supports' setting): the SDK signs requests
    // only when given credentials (EKM_CREDENTIALS), which this suite does not exercise.
    audit = (await startAuditApp(auditEnv(nats.url, db, { EKM_AUDIT_RECONCILE_INTERVAL_MS: '500' }))).svc;
    ekm = await Ekm.connect({ servers: nats.url, timeoutMs: 10_000 });
    pool = new Pool({ connectionString: db.url, max: 4 });
    await migrateVectorStore(pool);
    store = new VectorStore(ekm, pool);
  });
  afterAll(async () => {
    await ekm?.close();
    await pool?.end();
    await audit?.close();
    await keys?.svc.close();
    if (nats) await stopServer(nats);
  });

  const cli = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(['--nats', nats.url, '--database-url', db.url, ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('ingests two tenants (one data key per asset) and answers k-NN queries per tenant', async () => {
    const acme = parseAssets(readFileSync(join(DATA, 'acme.jsonl'), 'utf8'));
    expect(await store.ingest(A, 'docs', acme)).toBe(4);
    expect(store.keys.stats().generateCalls).toBe(4); // vector + metadata of an asset share one data key
    const ingested = await cli('ingest', '--tenant', B, '--collection', 'docs', '--file', join(DATA, 'globex.jsonl'));
    expect(ingested).toMatchObject({ code: 0 });
    expect(JSON.parse(ingested.out)).toMatchObject({ ingested: 2 });

    const near = await store.query(A, 'docs', v(1, 0, 0), 2);
    expect(near.map((n) => n.asset)).toEqual(['doc-cats', 'doc-dogs']);
    expect(near[0]!.metadata).toEqual({ title: 'All about cats' });
    expect((await store.query(A, 'docs', v(0, 0, 1), 2)).map((n) => n.asset)).toEqual(['doc-budget', 'doc-tax']);
    const calls = store.keys.stats().decryptCalls;
    await store.query(A, 'docs', v(1, 0, 0), 2);
    expect(store.keys.stats().decryptCalls).toBe(calls); // served from the decrypt cache

    const viaCli = await cli('query', '--tenant', B, '--collection', 'docs', '--vector', '1,0.1,0', '--k', '5');
    expect(viaCli.code).toBe(0);
    expect((JSON.parse(viaCli.out) as Array<{ asset: string }>).map((n) => n.asset)).toEqual(['g-cats', 'g-rockets']); // never A's assets

    // At rest: neither titles nor raw float bytes of any vector appear in the table.
    const rows = await pool.query<{ vector_env: Buffer; metadata_env: Buffer }>('SELECT vector_env, metadata_env FROM vector_store.assets');
    for (const r of rows.rows) {
      for (const needle of [Buffer.from('cats'), Buffer.from('Budget'), Buffer.from(v(0.9, 0.1, 0).buffer)]) {
        expect(r.vector_env.includes(needle) || r.metadata_env.includes(needle)).toBe(false);
      }
    }
  });

  it('rotate + rewrap: every stored wrapped key moves to version 2, old blobs are gone, queries still work', async () => {
    const before = await pool.query<{ vector_env: Buffer; metadata_env: Buffer }>('SELECT vector_env, metadata_env FROM vector_store.assets WHERE tenant = $1', [A]);
    const oldBlobs = before.rows.flatMap((r) => [parseEnvelope(r.vector_env).wrappedKey, parseEnvelope(r.metadata_env).wrappedKey]).map((b) => Buffer.from(b));
    const rotated = await cli('rotate', '--tenant', A);
    expect(JSON.parse(rotated.out)).toMatchObject({ primaryVersion: 2 });
    const report = await store.rewrap(A);
    expect(report).toMatchObject({ primaryVersion: 2, rewrapped: 4, current: 0 });
    expect(await store.rewrap(A)).toMatchObject({ rewrapped: 0, current: 4 });

    const after = await pool.query<{ tenant: string; vector_env: Buffer; metadata_env: Buffer; key_version: number }>('SELECT tenant, vector_env, metadata_env, key_version FROM vector_store.assets');
    for (const r of after.rows.filter((x) => x.tenant === A)) {
      expect(r.key_version).toBe(2);
      // EKM blob format 1: key version is the u32 at offset 21 of the wrapped key.
      expect(parseEnvelope(r.vector_env).wrappedKey.readUInt32BE(21)).toBe(2);
      expect(parseEnvelope(r.metadata_env).wrappedKey.readUInt32BE(21)).toBe(2);
    }
    for (const r of after.rows) for (const old of oldBlobs) expect(r.vector_env.includes(old) || r.metadata_env.includes(old)).toBe(false);
    expect(after.rows.filter((x) => x.tenant === B).every((x) => x.key_version === 1)).toBe(true);
    expect((await fresh().query(A, 'docs', v(1, 0, 0), 1)).map((n) => n.asset)).toEqual(['doc-cats']);
  });

  it('crypto-shredding: after A\'s key is destroyed its vectors are unreadable (EKM_KEY_NOT_ACTIVE), B still works, audit shows why', async () => {
    const keyA = await store.tenantKey(A);
    const warmOther = fresh();
    await warmOther.query(A, 'docs', v(1, 0, 0), 1); // another process with warm caches (see the note below)

    const shred = await cli('shred', '--tenant', A, '--window-days', '0');
    expect(shred.code).toBe(0);
    expect(JSON.parse(shred.out)).toMatchObject({ keyId: keyA, status: 'Destroyed' });

    for (const s of [fresh(), store]) {
      const err = await s.query(A, 'docs', v(1, 0, 0), 1).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EkmError);
      expect((err as EkmError).code).toBe('EKM_KEY_NOT_ACTIVE');
    }
    const viaCli = await cli('query', '--tenant', A, '--collection', 'docs', '--vector', '1,0,0');
    expect(viaCli.code).toBe(1);
    expect(viaCli.err).toMatch(/^error EKM_KEY_NOT_ACTIVE: /);
    await expect(store.ingest(A, 'docs', [{ asset: 'new', vector: v(1, 1, 1), metadata: null }])).rejects.toMatchObject({ code: 'EKM_KEY_NOT_ACTIVE' });
    // The caching trade-off: a process that does not invalidate keeps its unwrapped keys until maxAgeMs.
    warmOther.keys.invalidateKey(keyA);
    await expect(warmOther.query(A, 'docs', v(1, 0, 0), 1)).rejects.toMatchObject({ code: 'EKM_KEY_NOT_ACTIVE' });
    expect((await fresh().query(B, 'docs', v(1, 0, 0), 1)).map((n) => n.asset)).toEqual(['g-cats']);

    // The key's material is gone and its event log shows the deletion.
    const material = await pool.query('SELECT 1 FROM ekm_keys.key_material WHERE key_id::text = $1', [keyA]).catch(() => ({ rowCount: 0 }));
    expect(material.rowCount).toBe(0);
    const events = await pool.query<{ event_type: string }>('SELECT event_type FROM ekm_keys.events WHERE stream_id = $1 ORDER BY stream_position', [`key-${keyA}`]);
    expect(events.rows.map((e) => e.event_type)).toEqual(expect.arrayContaining(['KeyDeletionScheduled', 'KeyDestroyed']));
    const usage = await pool.query<{ data: { operation: string; outcome: string; errorCode?: string } }>(
      `SELECT data FROM ${USAGE_RECORDS} WHERE data->>'keyId' = $1 AND data->>'outcome' <> 'ALLOWED'`, [keyA]);
    expect(usage.rows.map((r) => r.data)).toEqual(expect.arrayContaining([expect.objectContaining({ operation: 'Decrypt', errorCode: 'EKM_KEY_NOT_ACTIVE' })]));

    // The audit trail (consumed from the keys service's events) shows the same, normalized.
    type Entry = { action: string; outcome: string; errorCode?: string; keyId?: string; tenant?: string };
    const entries = await waitFor(async () => {
      const m = await ekm.client.connection.request(subject('audit', 'query'), JSON.stringify({ keyId: keyA, limit: 1000 }), { timeout: 10_000 });
      const got = m.json<{ ok: boolean; data?: { entries: Entry[] } }>().data?.entries ?? [];
      return got.some((e) => e.action === 'KeyDestroyed') && got.some((e) => e.action === 'Decrypt' && e.outcome !== 'success') ? got : null;
    }, { what: 'the destroy and the refused decrypt in the audit trail', timeoutMs: 20_000, intervalMs: 250 });
    expect(entries).toEqual(expect.arrayContaining([
      expect.objectContaining({ action: 'KeyDestroyed' }),
      expect.objectContaining({ action: 'Decrypt', outcome: 'failure', errorCode: 'EKM_KEY_NOT_ACTIVE' }),
    ]));
  });
});
