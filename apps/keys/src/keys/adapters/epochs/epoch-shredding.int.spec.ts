/**
 * Backup-proof destruction, end to end through the keys service on real Postgres and NATS, under the
 * software root and under SoftHSM2: take a backup (pg_dump + a copy of the data dir), destroy a key,
 * restore the database backup and restart. The destroyed key's blobs never decrypt again; the live
 * key from the same backup still works (its row is re-wrapped forward from the ledger).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Reply } from '@ekm/contracts';
import { createSoftHsmToken } from '../../../../../../libs/crypto/src/pkcs11/testing/softhsm-token';
import { ROOT_OF_TRUST, type RootOfTrust } from '../../application/ports';
import { dataOf, startKeysHarness, type Harness } from '../nats/keys-admin.test-harness';
import { EpochRollerLifecycle } from './epoch-roller.lifecycle';
import { createTestDatabase } from '../../../../../../test/support/pg';
import { restoreDatabase, restoreDataDir, takeBackup, type Backup } from './epoch-shredding.test-support';

type Blob = { ciphertextBlob: string };
const ctx = { collection: 'docs' };
// A slow tick so the test drives passes itself (passNow) and reads their reports.
const EPOCH_ENV = { EKM_EPOCH_TICK_MS: '600000', EKM_KEK_CACHE_TTL_MS: '0' };

const roller = (h: Harness) => h.svc.app.get(EpochRollerLifecycle);
const epochIds = async (h: Harness) => (await h.svc.app.get<RootOfTrust>(ROOT_OF_TRUST).epochs.list()).map((e) => e.id);
const rowEpochs = async (h: Harness) => (await h.db.query<{ epoch: string }>('SELECT DISTINCT epoch FROM ekm_keys.key_material')).rows.map((r) => r.epoch);
const decrypt = (h: Harness, b: Blob) => h.call<{ plaintext: string }>('decrypt', { ciphertextBlob: b.ciphertextBlob, encryptionContext: ctx });
const plaintextOf = (r: Reply<{ plaintext: string }>) => Buffer.from(dataOf(r).plaintext, 'base64').toString();

async function createKeyWithBlobs(h: Harness, text: string): Promise<{ keyId: string; enc: Blob; dk: Blob & { plaintext: string } }> {
  const { keyId } = dataOf(await h.call<{ keyId: string }>('create-key', { tenant: 'shred' }));
  const enc = dataOf(await h.call<Blob>('encrypt', { keyId, plaintext: Buffer.from(text).toString('base64'), encryptionContext: ctx }));
  const dk = dataOf(await h.call<Blob & { plaintext: string }>('generate-data-key', { keyId, keySpec: 'AES_256', encryptionContext: ctx }));
  return { keyId, enc, dk };
}

describe.each([
  ['software', (): Record<string, string> => ({})],
  ['pkcs11 (SoftHSM2)', (): Record<string, string> => {
    const t = createSoftHsmToken();
    return { EKM_ROOT_OF_TRUST: 'pkcs11', EKM_PKCS11_LIBRARY: t.library, EKM_PKCS11_TOKEN_LABEL: t.tokenLabel, EKM_PKCS11_PIN: t.pin, EKM_PKCS11_KEY_LABEL: `ekm-root-${randomUUID()}` };
  }],
])('crypto-shredding survives a restored backup (%s root)', (rootName, rootEnv) => {
  let env: Record<string, string>;
  let h: Harness | undefined;
  let backup: Backup | undefined;
  let dataDir: string;
  beforeAll(() => {
    env = { ...EPOCH_ENV, ...rootEnv() };
    dataDir = mkdtempSync(join(tmpdir(), 'ekm-shred-data-'));
  });
  afterAll(async () => {
    await h?.close();
    backup?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('destroy ends the epoch; a database backup from before it opens the live key but never the destroyed one', async () => {
    // Our own database and data dir from the first start on, so both outlive restarts (the database is
    // bound to the root in that data dir: starting it on another root is refused, by design).
    const first = { database: await createTestDatabase('ekm_keys_admin') };
    h = await startKeysHarness(env, { database: first.database, dataDir });
    await roller(h).passNow();
    const [e1] = await epochIds(h);
    expect(e1).toBeDefined();

    const live = await createKeyWithBlobs(h, 'live vectors');
    const doomed = await createKeyWithBlobs(h, 'doomed vectors');
    expect(await rowEpochs(h)).toEqual([e1]);
    backup = takeBackup(h.database.url, dataDir);

    dataOf(await h.call('schedule-key-deletion', { keyId: doomed.keyId, pendingWindowDays: 0 }));
    dataOf(await h.call('destroy-key', { keyId: doomed.keyId }));
    const report = await roller(h).passNow();
    expect(report).toMatchObject({ reason: 'DESTROY', destroyedEpochs: [e1] });
    const [e2] = await epochIds(h);
    expect(await epochIds(h)).toEqual([e2]);
    expect(e2 > e1!).toBe(true);
    expect(await rowEpochs(h)).toEqual([e2]);
    expect(plaintextOf(await decrypt(h, live.enc))).toBe('live vectors');

    // Restore the database backup (the root of trust, token or data dir, is not rolled back).
    await h.close();
    h = undefined;
    await restoreDatabase(first.database.name, first.database.url, backup.dump);
    h = await startKeysHarness(env, { database: first.database, dataDir });
    expect((await h.db.query('SELECT 1 FROM ekm_keys.key_material WHERE key_id = $1', [doomed.keyId])).rowCount).toBe(1); // the backup brought the row back

    expect(plaintextOf(await decrypt(h, live.enc))).toBe('live vectors');
    expect(dataOf(await decrypt(h, live.dk)).plaintext).toBe(live.dk.plaintext);
    for (const blob of [doomed.enc, doomed.dk]) {
      const r = await decrypt(h, blob);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error.code).toBe('EKM_KEY_NOT_ACTIVE');
        expect(r.error.message).toContain(`wrapped under epoch ${e1}, whose key was destroyed`);
      }
    }
    // The bootstrap pass (or this one) moved the live row forward from the ledger; the destroyed one stays dead.
    const after = await roller(h).passNow();
    expect(after).toMatchObject({ reason: null, epoch: e2, unrecoverable: [{ keyId: doomed.keyId, version: 1, epoch: e1 }] });
    expect((await h.db.query<{ epoch: string }>('SELECT epoch FROM ekm_keys.key_material WHERE key_id = $1', [live.keyId])).rows).toEqual([{ epoch: e2 }]);
    expect(plaintextOf(await decrypt(h, live.enc))).toBe('live vectors');
    expect((await decrypt(h, doomed.enc)).ok).toBe(false);
    // New keys work after the restore, under the current epoch.
    const fresh = await createKeyWithBlobs(h, 'fresh');
    expect(plaintextOf(await decrypt(h, fresh.enc))).toBe('fresh');
    expect((await h.db.query<{ epoch: string }>('SELECT epoch FROM ekm_keys.key_material WHERE key_id = $1', [fresh.keyId])).rows).toEqual([{ epoch: e2 }]);

    if (rootName === 'software') {
      // What the software root cannot promise: a copy of its data dir from before the destroy holds
      // the old epoch key, so that copy plus the database backup opens the destroyed key again.
      await h.close();
      h = undefined;
      await restoreDatabase(first.database.name, first.database.url, backup.dump);
      restoreDataDir(dataDir, backup.dataDirCopy);
      h = await startKeysHarness(env, { database: first.database, dataDir });
      expect(plaintextOf(await decrypt(h, doomed.enc))).toBe('doomed vectors');
    }
  }, 180_000);
});
