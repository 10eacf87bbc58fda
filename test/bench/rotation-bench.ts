/**
 * Benchmark: N keys (default 10,000) due at once, 3 rotation replicas, one keys service, all child
 * processes over dist on a private Postgres and nats-server. Measures the time from "the clock makes
 * every key due" to "every key has its scheduled KeyRotated in the keys log", and checks there is no
 * duplicate. Prints a table; saves JSON in test/bench/results/.
 *
 * Run: `npm run bench:rotation` (env BENCH_KEYS, BENCH_REPLICAS, BENCH_BATCH to change the shape).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { Client } from 'pg';
import { startNats, startPostgres, stopServer } from '../support/servers';

const ROOT = join(__dirname, '..', '..', '..');
const KEYS = Number(process.env.BENCH_KEYS ?? 10_000);
const REPLICAS = Number(process.env.BENCH_REPLICAS ?? 3);
const BATCH = Number(process.env.BENCH_BATCH ?? 128);
const IN_FLIGHT = 64;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function service(name: 'keys' | 'rotation', env: Record<string, string>): { proc: ChildProcess; ready: Promise<void> } {
  const proc = spawn(process.execPath, [join(ROOT, `dist/apps/${name}/src/main.js`)], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (b: Buffer) => {
      if (b.toString().includes('"event":"ready"')) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  return { proc, ready };
}

async function call(nc: NatsConnection, op: string, body: unknown): Promise<{ keyId: string }> {
  const h = headers();
  h.set('Ekm-Request-Id', `bench-${op}-${Math.random().toString(36).slice(2)}-${Date.now()}`);
  for (let attempt = 1; ; attempt++) {
    try {
      const r = (await nc.request(`ekm.v1.keys.${op}`, JSON.stringify(body), { timeout: 30_000, headers: h })).json<{ ok: boolean; data: { keyId: string }; error?: { code: string; message: string } }>();
      if (!r.ok) throw new Error(`${op}: ${r.error?.code} ${r.error?.message}`);
      return r.data;
    } catch (err) {
      if (attempt >= 3) throw err;
      await sleep(200 * attempt);
    }
  }
}

async function pool<T>(n: number, limit: number, fn: (i: number) => Promise<T>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < n) await fn(next++);
  }));
}

async function main(): Promise<void> {
  const [pgServer, nats] = await Promise.all([startPostgres(), startNats()]);
  const children: ChildProcess[] = [];
  const admin = new Client({ connectionString: pgServer.url });
  await admin.connect();
  await admin.query('CREATE DATABASE ekm_bench');
  const dbUrl = pgServer.url.replace(/\/postgres$/, '/ekm_bench');
  const roleUrl = (role: string) => dbUrl.replace('postgres@', `${role}@`);
  const pg = new Client({ connectionString: dbUrl });
  const common = { EKM_NATS_URL: nats.url, EKM_DATABASE_ADMIN_URL: dbUrl, EKM_HTTP_PORT: '0', EKM_AUTH: 'disabled', EKM_LOG_LEVEL: 'info' }; // info: the ready line
  try {
    const keys = service('keys', { ...common, EKM_DATABASE_URL: roleUrl('ekm_keys'), EKM_DATA_DIR: mkdtempSync(join(tmpdir(), 'ekm-bench-')), EKM_ROOT_SECRET: 'bench-root-secret-0123456789', EKM_DELETION_MIN_DAYS: '0' });
    children.push(keys.proc);
    await keys.ready;
    const nc = await connect({ servers: nats.url });
    console.log(`creating ${KEYS} keys with periodic rotation ...`);
    const tCreate = Date.now();
    await pool(KEYS, IN_FLIGHT, async () => {
      const { keyId } = await call(nc, 'create-key', { tenant: 'bench' });
      await call(nc, 'enable-key-rotation', { keyId, periodDays: 1 });
    });
    const createS = (Date.now() - tCreate) / 1000;
    const replicas = Array.from({ length: REPLICAS }, () => service('rotation', {
      ...common, EKM_DATABASE_URL: roleUrl('ekm_rotation'), EKM_ROTATION_TICK_MS: '200', EKM_ROTATION_LEASE_MS: '10000', EKM_ROTATION_BATCH: String(BATCH),
    }));
    children.push(...replicas.map((r) => r.proc));
    await Promise.all(replicas.map((r) => r.ready));
    await pg.connect();
    const tProject = Date.now();
    for (;;) {
      const { rows } = await pg.query<{ n: string }>('SELECT count(*) AS n FROM ekm_rotation.schedule_keys WHERE next_rotation_at IS NOT NULL');
      if (Number(rows[0]!.n) >= KEYS) break;
      await sleep(250);
    }
    const projectS = (Date.now() - tProject) / 1000;
    for (const s of ['ekm_rotation', 'ekm_keys']) await pg.query(`INSERT INTO ${s}.clock_offset (id, offset_ms) VALUES (true, $1)`, [86_400_000 + 3_600_000]);
    console.log('all keys due now (clock +25 h); waiting for the rotations ...');
    const t0 = Date.now();
    let rotated = 0;
    let firstAt = 0;
    for (;;) {
      const { rows } = await pg.query<{ n: string }>(`SELECT count(*) AS n FROM ekm_keys.events WHERE event_type = 'KeyRotated' AND data->>'reason' = 'SCHEDULED'`);
      rotated = Number(rows[0]!.n);
      if (rotated > 0 && firstAt === 0) firstAt = Date.now();
      if (rotated >= KEYS) break;
      if (Date.now() - t0 > 15 * 60_000) throw new Error(`only ${rotated} of ${KEYS} rotated after 15 min`);
      await sleep(100);
    }
    const allS = (Date.now() - t0) / 1000;
    await sleep(3_000); // late duplicates would land now
    const { rows: [d] } = await pg.query<{ total: string; keys: string }>(`SELECT count(*) AS total, count(DISTINCT stream_id) AS keys FROM ekm_keys.events WHERE event_type = 'KeyRotated' AND data->>'reason' = 'SCHEDULED'`);
    const { rows: [ex] } = await pg.query<{ n: string; by: string }>(`SELECT count(*) AS n, count(DISTINCT replica) AS by FROM ekm_rotation.executions WHERE kind = 'ROTATE'`);
    const result = {
      benchmark: 'rotation: keys due at once', at: new Date().toISOString(), keys: KEYS, replicas: REPLICAS, batch: BATCH,
      setupCreateAndEnableSeconds: createS, projectionCatchUpSeconds: projectS,
      firstRotationAfterSeconds: (firstAt - t0) / 1000, allRotatedSeconds: allS, rotationsPerSecond: Math.round(KEYS / allS),
      scheduledRotations: Number(d!.total), keysRotated: Number(d!.keys), duplicates: Number(d!.total) - Number(d!.keys),
      ledgerExecutions: Number(ex!.n), replicasThatServed: Number(ex!.by),
    };
    console.table([
      { metric: 'keys due at once', value: result.keys },
      { metric: 'replicas / batch', value: `${REPLICAS} / ${BATCH}` },
      { metric: 'all rotated after (s)', value: result.allRotatedSeconds },
      { metric: 'rotations per second', value: result.rotationsPerSecond },
      { metric: 'first rotation after (s)', value: result.firstRotationAfterSeconds },
      { metric: 'duplicates', value: result.duplicates },
      { metric: 'replicas that served slots', value: result.replicasThatServed },
      { metric: 'setup: create+enable (s)', value: result.setupCreateAndEnableSeconds },
    ]);
    mkdirSync(join(ROOT, 'test/bench/results'), { recursive: true });
    const file = join(ROOT, 'test/bench/results', `rotation-${result.at.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`saved ${file}`);
    await nc.close();
    if (result.duplicates !== 0 || result.keysRotated !== KEYS) process.exitCode = 1;
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await sleep(1_500);
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await pg.end().catch(() => undefined);
    await admin.end().catch(() => undefined);
    await Promise.all([stopServer(pgServer), stopServer(nats)]);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
