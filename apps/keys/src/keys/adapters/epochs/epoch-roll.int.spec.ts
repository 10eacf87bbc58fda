/**
 * The epoch roller on real Postgres: scheduled rolls age epochs out without touching the data plane's
 * answers, and a database from before epochs (every row "epoch 0", wrapped directly under the root
 * key) gets its first epoch and is re-wrapped forward at the first start.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EPOCH_DIR, KeyMaterial, type RootOfTrust } from '@ekm/crypto';
import { ROOT_OF_TRUST } from '../../application/ports';
import { EPOCH_KEYRING, EpochKeyring } from '../../application/epochs/epoch-keyring';
import { EPOCH_STATE_STORE, EpochMovedError, FORWARD_LEDGER, type EpochStateStore, type ForwardLedger, type StoredKek } from '../../application/epochs/epoch.ports';
import { createTestDatabase } from '../../../../../../test/support/pg';
import { waitFor } from '../../../../../../test/support/wait-for';
import { dataOf, startKeysHarness, type Harness } from '../nats/keys-admin.test-harness';
import { EpochRollerLifecycle } from './epoch-roller.lifecycle';
import { FORWARD_LEDGER_FILE } from './file-forward-ledger';

const ctx = { collection: 'c' };
const root = (h: Harness) => h.svc.app.get<RootOfTrust>(ROOT_OF_TRUST);
const rowEpochs = async (h: Harness) => (await h.db.query<{ epoch: string }>('SELECT DISTINCT epoch FROM ekm_keys.key_material ORDER BY 1')).rows.map((r) => r.epoch);

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  return waitFor(fn, { timeoutMs, what });
}

async function encrypted(h: Harness, text: string): Promise<{ keyId: string; blob: string }> {
  const { keyId } = dataOf(await h.call<{ keyId: string }>('create-key', { tenant: 'roll' }));
  const { ciphertextBlob } = dataOf(await h.call<{ ciphertextBlob: string }>('encrypt', { keyId, plaintext: Buffer.from(text).toString('base64'), encryptionContext: ctx }));
  return { keyId, blob: ciphertextBlob };
}
const decrypted = async (h: Harness, blob: string) =>
  Buffer.from(dataOf(await h.call<{ plaintext: string }>('decrypt', { ciphertextBlob: blob, encryptionContext: ctx })).plaintext, 'base64').toString();

describe('scheduled epoch rolls', () => {
  let h: Harness;
  beforeAll(async () => {
    // Interval 1 ms: every pass is due. The timer is slow so the test drives the passes.
    h = await startKeysHarness({ EKM_EPOCH_ROLL_INTERVAL_MS: '1', EKM_EPOCH_TICK_MS: '600000', EKM_EPOCH_REWRAP_BATCH: '2', EKM_KEK_CACHE_TTL_MS: '0' });
  }, 60_000);
  afterAll(async () => h?.close());

  it('each roll re-wraps every row in batches and destroys the older epoch key; data keeps decrypting', async () => {
    const lifecycle = h.svc.app.get(EpochRollerLifecycle);
    await lifecycle.passNow();
    const blobs = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((t) => encrypted(h, t)));
    const before = (await root(h).epochs.list()).map((e) => e.id);
    expect(before).toHaveLength(1);
    const report = await lifecycle.passNow();
    // Five KEK rows and the tenant's root row (tenant-root:roll): the roll carries tenant roots forward like KEKs.
    expect(report).toMatchObject({ reason: 'SCHEDULE', rewrapped: 6, destroyedEpochs: before, unrecoverable: [] });
    const after = (await root(h).epochs.list()).map((e) => e.id);
    expect(after).toEqual([report!.epoch]);
    expect(await rowEpochs(h)).toEqual([report!.epoch]);
    expect(await Promise.all(blobs.map((b) => decrypted(h, b.blob)))).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(existsSync(join(h.dataDir, EPOCH_DIR, FORWARD_LEDGER_FILE))).toBe(true);
  });

  it('a replica holding the old epoch is refused by the fence, and wraps again under the new one', async () => {
    const state = h.svc.app.get<EpochStateStore>(EPOCH_STATE_STORE);
    // A second replica's keyring: same root of trust and database, its own cached view of the fence.
    const replica = new EpochKeyring(root(h), state, h.svc.app.get<ForwardLedger>(FORWARD_LEDGER));
    const stale = await replica.current();
    const report = await h.svc.app.get(EpochRollerLifecycle).passNow();
    expect(report?.destroyedEpochs).toEqual([stale]);
    const tx = { query: async <R,>(sql: string, params?: unknown[]) => (await h.db.query(sql, params)).rows as R[] };
    await h.db.query('BEGIN');
    try {
      await expect(state.checkFence(tx, stale)).rejects.toThrow(new EpochMovedError(stale, report!.epoch).message);
      await expect(state.checkFence(tx, report!.epoch)).resolves.toBeUndefined();
    } finally {
      await h.db.query('ROLLBACK');
    }
    expect(await replica.current()).toBe(stale); // still cached
    const { material, wrapped } = await replica.retryOnEpochMove(() => replica.generateKek());
    material.dispose();
    expect(wrapped.epoch).toBe(report!.epoch);
  });
});

describe('migration of a database from before epochs', () => {
  it('rows under "epoch 0" (the bare root wrap) keep working and move to the first epoch at start', async () => {
    const reuse = { database: await createTestDatabase('ekm_keys_epoch0'), dataDir: mkdtempSync(join(tmpdir(), 'ekm-epoch0-')) };
    const first = await startKeysHarness({ EKM_EPOCH_TICK_MS: '600000', EKM_KEK_CACHE_TTL_MS: '0' }, reuse);
    let h: Harness | undefined = first;
    try {
      await first.svc.app.get(EpochRollerLifecycle).passNow();
      const k = await encrypted(first, 'from before epochs');
      // Turn the database and data dir back into what a pre-epoch release left: rows wrapped under the
      // root key itself, epoch '0', fence '0', no epoch keys, no ledger.
      const keyring = first.svc.app.get<EpochKeyring>(EPOCH_KEYRING);
      const { rows } = await first.db.query<{ key_id: string; version: number; material_ref: string; epoch: string; wrapped: Buffer }>('SELECT * FROM ekm_keys.key_material');
      for (const r of rows) {
        const row: StoredKek = { keyId: r.key_id, version: r.version, materialRef: r.material_ref, epoch: r.epoch, wrapped: r.wrapped };
        const material: KeyMaterial = await keyring.unwrap(row);
        const legacy = await root(first).wrapKey(material);
        material.dispose();
        await first.db.query(`UPDATE ekm_keys.key_material SET wrapped = $1, epoch = '0' WHERE key_id = $2 AND version = $3`, [legacy, r.key_id, r.version]);
      }
      await first.db.query(`UPDATE ekm_keys.epoch_fence SET current = '0'`);
      await first.close();
      h = undefined;
      rmSync(join(first.dataDir, EPOCH_DIR), { recursive: true, force: true });
      h = await startKeysHarness({ EKM_EPOCH_TICK_MS: '600000', EKM_KEK_CACHE_TTL_MS: '0' }, reuse);
      const started = h;
      const epochs = await until('the first epoch', async () => {
        const ids = (await root(started).epochs.list()).map((e) => e.id);
        const moved = await rowEpochs(started);
        return ids.length === 1 && moved.length === 1 && moved[0] === ids[0] ? ids : undefined;
      });
      expect(epochs).toHaveLength(1);
      expect(await decrypted(h, k.blob)).toBe('from before epochs');
      expect(h.svc.app.get(EpochRollerLifecycle).last).toMatchObject({ reason: 'FIRST_EPOCH', rewrapped: rows.length, unrecoverable: [] });
    } finally {
      await h?.close();
      rmSync(reuse.dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
