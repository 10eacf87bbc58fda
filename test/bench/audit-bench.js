#!/usr/bin/env node
/**
 * Audit benchmarks over dist/ (run `npm run build` first): `npm run bench:audit`.
 * 1. Trail lag: a source (schema ekm_keys + its OutboxRelay) commits usage records at a steady rate
 *    while the audit service runs as a child process, each tick's records as one KeyUsageBatchRecorded
 *    event (as the keys service's group commit writes them; AUDIT_BENCH_SINGLE=1: one KeyUsageRecorded
 *    per record, as older keys services did); lag = when the trail's commit notification for the
 *    entry arrived (LISTEN ekm_audit_trail) - source recorded_at, p50/p99/max (one machine, one clock).
 * 2. Verify rate: N entries appended with the trail appender, then verifyTrail over Postgres; the
 *    append rate of the first and of the last 10 % of the trail shows whether appends slow as it grows.
 * Starts its own Postgres and nats-server; prints a table and writes test/bench/results/audit-<ts>.json.
 * Env: AUDIT_BENCH_RATE (events/s, default 2000), AUDIT_BENCH_SECONDS (default 5), AUDIT_BENCH_VERIFY_N (default 100000).
 */
'use strict';
require('reflect-metadata');
const { spawn } = require('node:child_process');
const { randomUUID } = require('node:crypto');
const { mkdtempSync, mkdirSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { Client, Pool } = require('pg');
const { connect } = require('@nats-io/transport-node');
const { jetstream } = require('@nats-io/jetstream');
const dist = (p) => require(join(__dirname, '../../dist', p));
const { startPostgres, startNats, stopServer } = dist('test/support/servers.js');
const es = dist('libs/event-store/src/index.js');
const { SoftwareRootOfTrust } = dist('libs/crypto/src/index.js');
const { AuditTrailMigration } = dist('apps/audit/src/trail/adapters/postgres/audit-schema.migration.js');
const { AuditTrailBatchMigration } = dist('apps/audit/src/trail/adapters/postgres/trail-batch.migration.js');
const { TrailAppender } = dist('apps/audit/src/trail/adapters/postgres/trail-appender.js');
const { TrailReader } = dist('apps/audit/src/trail/adapters/postgres/trail-reader.js');
const { AuditSigner } = dist('apps/audit/src/trail/adapters/signing/audit-signer.js');
const { verifyTrail } = dist('apps/audit/src/trail/application/verify-trail.js');

const RATE = Number(process.env.AUDIT_BENCH_RATE ?? 2000);
const SECONDS = Number(process.env.AUDIT_BENCH_SECONDS ?? 5);
const VERIFY_N = Number(process.env.AUDIT_BENCH_VERIFY_N ?? 100000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const SINGLE = process.env.AUDIT_BENCH_SINGLE === '1';
const usage = (n) => ({ type: 'KeyUsageRecorded', data: { requestId: randomUUID(), principal: 'bench', tenant: 'acme', operation: 'GenerateDataKey', keyId: 'k-bench', keyVersion: 1, encryptionContext: { tenant: 'acme', collection: 'docs', asset: `a${n % 50}` }, outcome: 'ALLOWED', at: new Date().toISOString() }, meta: { actor: 'bench' } });

async function createDb(pgUrl, name) {
  const c = new Client({ connectionString: pgUrl });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const u = new URL(pgUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

function spawnAudit(env) {
  const child = spawn(process.execPath, [join(__dirname, '../../dist/apps/audit/src/main.js')], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => { out += d; if (out.includes('"event":"ready"')) resolve(child); });
    child.stderr.on('data', (d) => { out += d; });
    setTimeout(() => reject(new Error('audit child not ready: ' + out.slice(-3000))), 20000);
    child.once('exit', (code) => reject(new Error(`audit exited ${code}: ${out.slice(-1500)}`)));
  });
}

async function lagBench(pg, natsUrl) {
  const url = await createDb(pg.url, `bench_lag_${Date.now()}`);
  await es.migrateServiceSchema({ adminUrl: url, service: 'keys', extraMigrations: [es.OutboxRelayMigration] });
  const pool = new Pool({ connectionString: url, max: 8 });
  pool.on('error', () => undefined);
  const nc = await connect({ servers: natsUrl });
  const store = new es.PostgresEventStore(pool, { service: 'keys' });
  const relay = new es.OutboxRelay({ service: 'keys', pool, store, js: jetstream(nc) });
  const { jetstreamManager } = require('@nats-io/jetstream');
  await es.ensureStreams(await jetstreamManager(nc), [es.eventStreamSpec('keys')]);
  relay.start();
  const u = new URL(url);
  u.username = 'ekm_audit';
  const child = await spawnAudit({
    EKM_NATS_URL: natsUrl, EKM_DATABASE_ADMIN_URL: url, EKM_DATABASE_URL: u.toString(), EKM_HTTP_PORT: '0', EKM_AUTH: 'disabled',
    EKM_DATA_DIR: mkdtempSync(join(tmpdir(), 'ekm-audit-bench-')), EKM_ROOT_SECRET: 'audit-bench-root-secret-01', EKM_AUDIT_SOURCES: 'keys', EKM_LOG_LEVEL: 'info',
  });
  // Commit notifications (payload: the trail head after the commit), timed as they arrive.
  const listener = new Client({ connectionString: url });
  await listener.connect();
  const heads = [];
  listener.on('notification', (m) => heads.push([Number(m.payload), Date.now()]));
  await listener.query('LISTEN ekm_audit_trail');
  const perTick = Math.max(1, Math.round(RATE / 100));
  const streams = Array.from({ length: 8 }, () => `usage-bench-${randomUUID()}`);
  const start = Date.now();
  let sent = 0;
  const inflight = new Set();
  for (let tick = 0; Date.now() - start < SECONDS * 1000; tick++) {
    const recs = Array.from({ length: perTick }, (_, i) => usage(sent + i));
    const events = SINGLE ? recs : [{ type: 'KeyUsageBatchRecorded', data: { records: recs.map((r) => r.data) }, meta: recs[0].meta }];
    const p = store.appendToStream(streams[tick % streams.length], events, { expectedVersion: es.ExpectedVersion.any });
    sent += perTick;
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    const due = start + (tick + 1) * 10;
    if (due > Date.now()) await sleep(due - Date.now());
  }
  await Promise.all(inflight);
  const produceSeconds = (Date.now() - start) / 1000;
  const admin = new Client({ connectionString: url });
  await admin.connect();
  for (let i = 0; i < 600; i++) {
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM ekm_audit.trail`);
    if (rows[0].n >= sent) break;
    await sleep(100);
  }
  const { rows: entries } = await admin.query(`
    SELECT t.leaf_index::int AS leaf, (extract(epoch FROM e.recorded_at) * 1000)::float8 AS recorded_ms
      FROM ekm_audit.trail t JOIN ekm_keys.events e ON e.stream_id = t.source_stream_id AND e.stream_position = t.source_stream_position ORDER BY t.leaf_index`);
  const lags = [];
  let h = 0;
  for (const { leaf, recorded_ms } of entries) {
    while (h < heads.length && heads[h][0] < leaf) h++;
    if (h < heads.length) lags.push(heads[h][1] - recorded_ms);
  }
  lags.sort((a, b) => a - b);
  const pct = (q) => (lags.length === 0 ? NaN : lags[Math.min(lags.length - 1, Math.floor(q * lags.length))]);
  const rows = [{ n: entries.length, p50: pct(0.5), p99: pct(0.99), max: lags[lags.length - 1] }];
  await listener.end();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await relay.stop();
  await nc.close();
  await admin.end();
  await pool.end();
  return { events: SINGLE ? 'KeyUsageRecorded' : 'KeyUsageBatchRecorded', rateTarget: RATE, sent, achievedRate: Math.round(sent / produceSeconds), inTrail: rows[0].n, lagP50Ms: Number(rows[0].p50), lagP99Ms: Number(rows[0].p99), lagMaxMs: Number(rows[0].max) };
}

async function verifyBench(pg) {
  const url = await createDb(pg.url, `bench_verify_${Date.now()}`);
  await es.migrateServiceSchema({ adminUrl: url, service: 'audit', extraMigrations: [AuditTrailMigration, AuditTrailBatchMigration] });
  const pool = new Pool({ connectionString: url, max: 4 });
  const root = SoftwareRootOfTrust.open({ dataDir: mkdtempSync(join(tmpdir(), 'ekm-audit-bench-v-')), env: 'development', secret: 'audit-bench-root-secret-01' });
  const signer = await AuditSigner.load(pool, root);
  const appender = new TrailAppender({ pool, signer, checkpointEvery: 1000 });
  const t0 = Date.now();
  const stream = `usage-${randomUUID()}`;
  const chunkMs = [];
  for (let done = 0; done < VERIFY_N; done += 2000) {
    const n = Math.min(2000, VERIFY_N - done);
    const c0 = Date.now();
    await appender.appendMany(Array.from({ length: n }, (_, i) => ({ service: 'keys', eventId: randomUUID(), type: 'KeyUsageRecorded', streamId: stream, streamPosition: done + i + 1, globalPosition: String(done + i + 1), recordedAt: new Date().toISOString(), ...usage(done + i) })));
    chunkMs.push([n, Date.now() - c0]);
  }
  const tenth = Math.max(1, Math.floor(chunkMs.length / 10));
  const rateOf = (cs) => Math.round(cs.reduce((a, c) => a + c[0], 0) / (cs.reduce((a, c) => a + c[1], 0) / 1000));
  const appendRateFirstTenth = rateOf(chunkMs.slice(0, tenth));
  const appendRateLastTenth = rateOf(chunkMs.slice(-tenth));
  const appendRate = Math.round(VERIFY_N / ((Date.now() - t0) / 1000));
  const t1 = process.hrtime.bigint();
  const r = await verifyTrail(new TrailReader(pool), { verifySignature: (p, s) => signer.verify(p, s) });
  const seconds = Number(process.hrtime.bigint() - t1) / 1e9;
  await root.close();
  await pool.end();
  if (!r.ok) throw new Error(`verify failed: ${r.reason}`);
  return { entries: r.entries, checkpoints: r.checkpoints, verifySeconds: Number(seconds.toFixed(3)), verifyRatePerSec: Math.round(r.entries / seconds), appendRatePerSec: appendRate, appendRateFirstTenth, appendRateLastTenth };
}

let children = [];
async function main() {
  const [pg, nats] = await Promise.all([startPostgres(), startNats()]);
  // An interrupted run must not leave its servers or the audit child behind.
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => {
    for (const c of children) c.kill('SIGKILL');
    void Promise.allSettled([stopServer(nats), stopServer(pg)]).then(() => process.exit(130));
  });
  try {
    const lag = await lagBench(pg, nats.url);
    const verify = await verifyBench(pg);
    const result = { at: new Date().toISOString(), machine: 'see ARCHITECTURE §8', lag, verify };
    console.table({
      'trail lag p50 (ms)': lag.lagP50Ms.toFixed(1), 'trail lag p99 (ms)': lag.lagP99Ms.toFixed(1), 'trail lag max (ms)': lag.lagMaxMs.toFixed(1),
      'source rate (events/s)': lag.achievedRate, 'events in trail / sent': `${lag.inTrail} / ${lag.sent}`,
      'verify rate (entries/s)': verify.verifyRatePerSec, 'verify entries': verify.entries, 'bulk append rate (entries/s)': verify.appendRatePerSec, 'append rate, first / last 10 % of the trail': `${verify.appendRateFirstTenth} / ${verify.appendRateLastTenth}`,
    });
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    const file = join(__dirname, 'results', `audit-${Date.now()}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`saved ${file}`);
  } finally {
    await stopServer(nats);
    await stopServer(pg);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
