/**
 * Benchmark: the cost of ending an epoch with N live KEK versions (default 100,000), and what the data
 * plane sees meanwhile. A private Postgres with the keys tables, a software root (BENCH_ROOT=pkcs11: a
 * fresh SoftHSM2 token), N rows wrapped under epoch 1; then one scheduled roll (create epoch 2, fence,
 * batched re-wrap, forward ledger, destroy epoch 1) while readers keep loading random KEKs from the
 * store and unwrapping them, as the KEK cache does on a miss. Prints a table; saves JSON in
 * test/bench/results/.
 *
 * Run: `npm run bench:epochs` (BENCH_KEYS=1000 for a smoke run; BENCH_BATCH rows per transaction).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { Pkcs11RootOfTrust, SoftwareRootOfTrust, type RootOfTrust } from '@ekm/crypto';
import type { QueryRunner } from 'typeorm';
import { EpochKeyring } from '../../apps/keys/src/keys/application/epochs/epoch-keyring';
import { EpochRoller } from '../../apps/keys/src/keys/application/epochs/epoch-roller';
import { FileForwardLedger } from '../../apps/keys/src/keys/adapters/epochs/file-forward-ledger';
import { PgEpochStateStore } from '../../apps/keys/src/keys/adapters/postgres/epoch-state.store';
import { PgKeyMaterialStore } from '../../apps/keys/src/keys/adapters/postgres/key-material.store';
import { KeysSchemaMigration } from '../../apps/keys/src/keys/adapters/postgres/keys-schema.migration';
import { EpochsMigration } from '../../apps/keys/src/keys/adapters/postgres/epochs.migration';
import { createSoftHsmToken } from '../../libs/crypto/src/pkcs11/testing/softhsm-token';
import { startPostgres, stopServer } from '../support/servers';

const KEYS = Number(process.env.BENCH_KEYS ?? 100_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const ROOT_KIND = process.env.BENCH_ROOT === 'pkcs11' ? 'pkcs11' : 'software';
const READERS = 4;

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined, child: () => silent } as never;
const pct = (xs: number[], p: number): number => (xs.length === 0 ? 0 : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!);

async function openRoot(dataDir: string): Promise<RootOfTrust> {
  if (ROOT_KIND === 'software') return SoftwareRootOfTrust.open({ dataDir, secret: 'bench-epoch-secret-0123', env: 'production' });
  const t = createSoftHsmToken();
  return Pkcs11RootOfTrust.open({ library: t.library, tokenLabel: t.tokenLabel, pin: t.pin, keyLabel: 'ekm-bench-root' });
}

async function main(): Promise<void> {
  const pg = await startPostgres();
  const dataDir = mkdtempSync(join(tmpdir(), 'ekm-epoch-bench-'));
  const pool = new Pool({ connectionString: pg.url, max: 8 });
  const root = await openRoot(dataDir);
  try {
    await pool.query('CREATE SCHEMA ekm_keys');
    const runner = { query: (sql: string) => pool.query(sql) } as unknown as QueryRunner;
    await new KeysSchemaMigration('keys').up(runner);
    await new EpochsMigration('keys').up(runner);
    const state = new PgEpochStateStore(pool);
    const ledger = new FileForwardLedger(dataDir);
    const keyring = new EpochKeyring(root, state, ledger);
    const store = new PgKeyMaterialStore(pool);
    const e1 = (await root.epochs.create()).id;
    await state.advanceFence(e1);

    const seedStart = performance.now();
    const ids: string[] = [];
    for (let done = 0; done < KEYS; done += 1000) {
      const n = Math.min(1000, KEYS - done);
      const rows = await Promise.all(Array.from({ length: n }, async () => {
        const { material, wrapped } = await root.epochs.generateKek(e1);
        material.dispose();
        return { id: randomUUID(), wrapped };
      }));
      ids.push(...rows.map((r) => r.id));
      await pool.query(
        `INSERT INTO ekm_keys.key_material (key_id, version, material_ref, wrapped, epoch) SELECT k, 1, k, w, $3 FROM unnest($1::text[], $2::bytea[]) AS t(k, w)`,
        [rows.map((r) => r.id), rows.map((r) => r.wrapped), e1],
      );
    }
    const seedMs = performance.now() - seedStart;

    // Readers: what a KEK-cache miss does (store read + unwrap under the row's epoch), for the whole roll.
    let rolling = true;
    const latencies: number[] = [];
    let readErrors = 0;
    const reader = async (): Promise<void> => {
      while (rolling) {
        const id = ids[Math.floor(Math.random() * ids.length)]!;
        const t0 = performance.now();
        try {
          const row = await store.get(id, 1);
          (await keyring.unwrap(row!)).dispose();
        } catch {
          readErrors++;
        }
        latencies.push(performance.now() - t0);
      }
    };
    const roller = new EpochRoller(root, state, ledger, keyring, silent, { intervalMs: 1, batch: BATCH });
    const readers = Array.from({ length: READERS }, reader);
    const rollStart = performance.now();
    const report = await roller.tick();
    const rollMs = performance.now() - rollStart;
    rolling = false;
    await Promise.all(readers);

    const result = {
      at: new Date().toISOString(), root: ROOT_KIND, keys: KEYS, batch: BATCH, seedMs: Math.round(seedMs), rollMs: Math.round(rollMs),
      rewrapPerSecond: Math.round((report!.rewrapped / rollMs) * 1000), rewrapped: report!.rewrapped, destroyedEpochs: report!.destroyedEpochs.length,
      readersDuringRoll: { readers: READERS, reads: latencies.length, errors: readErrors, p50Ms: +pct(latencies, 0.5).toFixed(2), p99Ms: +pct(latencies, 0.99).toFixed(2), maxMs: +pct(latencies, 1).toFixed(2) },
    };
    console.table([{ root: result.root, keys: KEYS, 'roll s': (rollMs / 1000).toFixed(1), 'rewrap/s': result.rewrapPerSecond, 'reader p50 ms': result.readersDuringRoll.p50Ms, 'reader p99 ms': result.readersDuringRoll.p99Ms, 'read errors': readErrors }]);
    const dir = join(__dirname, 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `epoch-rewrap-${Date.now()}.json`), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await root.close();
    await pool.end();
    await stopServer(pg);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
