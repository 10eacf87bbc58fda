/**
 * Signed destruction receipts end to end (keys + audit in-process, real Postgres and nats-server):
 * destroy a key, the epoch roll lands in the trail, the audit service signs a receipt citing both
 * entries and each version's creation-time commitment; `ekm key receipt` fetches it and
 * `ekm key receipt verify` checks it offline with the audit public key; any edit fails.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Client } from 'pg';
import { SignedDestructionReceiptReply, subject, type Reply } from '@ekm/contracts';
import { verifyDestructionReceipt, type SignedDestructionReceipt } from '@ekm/client';
import type { RootOfTrust } from '@ekm/crypto';
import type { ServiceApp } from '@ekm/service-kit';
import { ROOT_OF_TRUST } from '../../apps/keys/src/keys/application/ports';
import { runCli } from '../../apps/cli/src/program';
import type { TrailRuntime } from '../../apps/audit/src/trail/adapters/trail-runtime';
import { createTestDatabase } from '../support/pg';
import { startNats, stopServer, type ServerHandle } from '../support/servers';
import { auditEnv, startAuditApp, waitFor } from './audit.support';
import { createKey, okData, startKeysApp } from './keys-crypto.support';

jest.setTimeout(90_000);

describe('destruction receipts', () => {
  let nats: ServerHandle;
  let nc: NatsConnection;
  let keys: ServiceApp;
  let audit: { svc: ServiceApp; runtime: TrailRuntime };
  let admin: Client;
  const dir = mkdtempSync(join(tmpdir(), 'ekm-receipt-'));

  beforeAll(async () => {
    let db: { name: string; url: string };
    [nats, db] = await Promise.all([startNats(), createTestDatabase('ekm_receipt_e2e')]);
    keys = (await startKeysApp(nats.url, db, { EKM_EPOCH_TICK_MS: '200' })).svc;
    audit = await startAuditApp(auditEnv(nats.url, db));
    nc = await connect({ servers: nats.url });
    admin = new Client({ connectionString: db.url });
    await admin.connect();
  });
  afterAll(async () => {
    await audit?.svc.close().catch(() => undefined);
    await keys?.close().catch(() => undefined);
    await nc?.close();
    await admin?.end();
    if (nats) await stopServer(nats);
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = async (...argv: string[]): Promise<{ code: number; out: string }> => {
    let out = '';
    const code = await runCli(['--nats', nats.url, ...argv], { io: { stdout: (c) => void (out += c.toString()), stderr: (c) => void (out += c) }, env: {}, cwd: '/' });
    return { code, out };
  };
  /** The reply; a success is parsed with its reply contract (strict), so a handler drifting from it fails here. */
  const receiptOf = async (keyId: string): Promise<Reply<SignedDestructionReceipt>> => {
    const r = (await nc.request(subject('audit', 'destruction-receipt'), JSON.stringify({ keyId }), { timeout: 10_000 })).json<Reply<unknown>>();
    return r.ok ? { ok: true, data: SignedDestructionReceiptReply.parse(r.data) } : r;
  };

  it('a destroyed key gets a receipt that verifies offline; an edited one fails', async () => {
    const keyId = await createKey(nc, { tenant: 'receipts' });
    await okData(nc, 'rotate-key', { keyId });
    expect(await receiptOf(keyId)).toMatchObject({ ok: false, error: { code: 'EKM_NOT_FOUND' } });
    const epochsBefore = (await keys.app.get<RootOfTrust>(ROOT_OF_TRUST).epochs.list()).map((e) => e.id);
    await okData(nc, 'schedule-key-deletion', { keyId, pendingWindowDays: 0 });
    await okData(nc, 'destroy-key', { keyId });

    const signed = await waitFor('the receipt', async () => {
      const r = await receiptOf(keyId);
      // The trail is filled asynchronously: NOT_FOUND until KeyDestroyed lands, UNAVAILABLE until the roll does.
      if (!r.ok && r.error.code !== 'EKM_UNAVAILABLE' && r.error.code !== 'EKM_NOT_FOUND') throw new Error(`${r.error.code}: ${r.error.message}`);
      return r.ok ? r.data : undefined;
    }, 30_000);
    const fingerprints = (await admin.query<{ version: number; fingerprint: string }>('SELECT version, fingerprint FROM ekm_keys.key_versions WHERE key_id = $1 ORDER BY version', [keyId])).rows;
    expect(signed.receipt).toMatchObject({
      type: 'ekm.destruction-receipt', keyId, tenant: 'receipts', commitmentScheme: 'ekm-fingerprint/v1',
      versions: fingerprints.map((f) => ({ version: f.version, commitment: f.fingerprint, createdTrailIndex: expect.any(Number) })),
    });
    expect(signed.receipt.epoch.destroyedEpochs).toEqual(expect.arrayContaining(epochsBefore));
    expect((await keys.app.get<RootOfTrust>(ROOT_OF_TRUST).epochs.list()).map((e) => e.id)).not.toEqual(expect.arrayContaining(epochsBefore));
    expect(signed.receipt.epoch.trailIndex).toBeGreaterThan(signed.receipt.destroyed.trailIndex);
    const trail = (await admin.query<{ leaf_index: string; hash: Buffer }>('SELECT leaf_index, hash FROM ekm_audit.trail WHERE leaf_index = ANY($1)', [[signed.receipt.destroyed.trailIndex, signed.receipt.epoch.trailIndex]])).rows;
    expect(Object.fromEntries(trail.map((r) => [Number(r.leaf_index), r.hash.toString('hex')]))).toEqual({
      [signed.receipt.destroyed.trailIndex]: signed.receipt.destroyed.entryHash, [signed.receipt.epoch.trailIndex]: signed.receipt.epoch.entryHash,
    });
    expect(JSON.stringify(signed)).not.toMatch(/wrapped|material"/);

    // Offline, with the audit service's public key.
    const auditKey = audit.runtime.signer.publicKeyRaw.toString('base64');
    expect(verifyDestructionReceipt(signed, auditKey)).toMatchObject({ ok: true, trustedKey: true });
    const edited = (f: (s: SignedDestructionReceipt) => unknown) => f(JSON.parse(JSON.stringify(signed)) as SignedDestructionReceipt);
    expect(verifyDestructionReceipt(edited((s) => ({ ...s, receipt: { ...s.receipt, versions: s.receipt.versions.slice(1) } })), auditKey)).toMatchObject({ ok: false, reason: expect.stringContaining('edited') });
    expect(verifyDestructionReceipt(edited((s) => ({ ...s, payload: s.payload.replace(keyId, keyId.replace(/.$/, (c) => (c === '0' ? '1' : '0'))) })), auditKey).ok).toBe(false);
    expect(verifyDestructionReceipt(signed, Buffer.alloc(32, 7).toString('base64'))).toMatchObject({ ok: false, reason: expect.stringContaining('another key') });

    // The CLI: fetch, write, verify offline (no --nats needed for verify), an edited file exits 1.
    const file = join(dir, 'receipt.json');
    const fetched = await cli('key', 'receipt', keyId, '--out', file);
    expect(fetched).toMatchObject({ code: 0, out: expect.stringContaining(`key ${keyId} (tenant receipts) destroyed`) });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(signed); // deterministic: the same receipt each time
    const ok = await cli('key', 'receipt', 'verify', file, '--public-key', auditKey, '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ ok: true, trustedKey: true });
    const tampered = JSON.parse(readFileSync(file, 'utf8')) as SignedDestructionReceipt;
    writeFileSync(file, JSON.stringify({ ...tampered, receipt: { ...tampered.receipt, destroyed: { ...tampered.receipt.destroyed, at: '2020-01-01T00:00:00.000Z' } } }));
    const bad = await cli('key', 'receipt', 'verify', file, '--public-key', auditKey);
    expect(bad).toMatchObject({ code: 1, out: expect.stringContaining('INVALID') });
  });
});
