/**
 * `npm run bench:scale`: the size targets (docs/performance.md) that the hot-path harness does not cover.
 *   keys     100 keys vs 100,000 keys: keys-service start-up to ready, GenerateDataKey and Decrypt at 64
 *            in flight spread over all keys (private stack of bench-stack, load worker of the main bench).
 *   rebuild  1,000,000 events of a realistic key-stream mix: rebuildProjection with KeyProjection, and the
 *            CLI's rebuildKeysProjection.
 *   audit    verifyTrail over a trail of 100,000 entries.
 * Own Postgres and nats-server; prints a markdown table, writes test/bench/results/scale-<ts>.json.
 * See docs/performance.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { Client, Pool } from 'pg';
import { SoftwareRootOfTrust } from '@ekm/crypto';
import { migrateServiceSchema, rebuildProjection } from '@ekm/event-store';
import { KeyProjection } from '../../apps/keys/src/keys/adapters/postgres/key-projection';
import { RebuildKeyProjection } from '../../apps/keys/src/keys/adapters/postgres/key-projection.rebuild';
import { KeysSchemaMigration } from '../../apps/keys/src/keys/adapters/postgres/keys-schema.migration';
import { rebuildKeysProjection } from '../../apps/cli/src/admin/keys-projection-rebuild';
import { AuditTrailMigration } from '../../apps/audit/src/trail/adapters/postgres/audit-schema.migration';
import { AuditTrailBatchMigration } from '../../apps/audit/src/trail/adapters/postgres/trail-batch.migration';
import { TrailAppender } from '../../apps/audit/src/trail/adapters/postgres/trail-appender';
import { TrailReader } from '../../apps/audit/src/trail/adapters/postgres/trail-reader';
import { AuditSigner } from '../../apps/audit/src/trail/adapters/signing/audit-signer';
import { verifyTrail } from '../../apps/audit/src/trail/application/verify-trail';
import { callerOf, LoadWorker } from './bench.main';
import { repoRoot, startPrivateStack, type PrivateStack } from './bench-stack';
import { prepareFixture } from './bench-fixture';
import type { BenchOp, Fixture } from './load-scenarios';
import type { RunResult } from './load-worker';
import { cpuSeconds, loadAverage, treeCpuSeconds } from './proc-stats';
import { seedEventMix, seedKeys } from './scale-seed';

// Prefixed with ms since the process started: where a --cpu-prof profile of the harness is to be cut.
const log = (s: string): void => { process.stderr.write(`[bench:scale +${Math.round(performance.now())}ms] ${s}\n`); };
const PARTS = ['keys', 'rebuild', 'audit'] as const;
type Part = (typeof PARTS)[number];

interface ScaleOptions {
  readonly quick: boolean;
  readonly parts: readonly Part[];
  readonly keys: number;
  readonly events: number;
  readonly auditEntries: number;
  readonly durationMs: number;
  /** Batch sizes of the rebuildProjection runs (one full rebuild each). */
  readonly rebuildBatches: readonly number[];
  /** EKM_KEK_CACHE_MAX of the keys service (default: the service's default, 1000). */
  readonly kekCacheMax?: number;
  readonly out?: string;
}

const USAGE = `usage: npm run bench:scale -- [--quick] [--only keys,rebuild,audit] [--keys n] [--events n] [--audit-entries n] [--duration-ms n] [--rebuild-batch 1000,10000] [--kek-cache-max n] [--out f.json]
  default: 100,000 keys, 1,000,000 events, 100,000 audit entries; --quick: 10,000 keys, 100,000 events, 100,000 entries, shorter runs`;

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): ScaleOptions {
  const args = [...argv];
  const quick = args.includes('--quick');
  let parts: Part[] = [...PARTS];
  let keys = quick ? 10_000 : 100_000;
  let events = quick ? 100_000 : 1_000_000;
  let auditEntries = 100_000;
  let durationMs = quick ? 3000 : 8000;
  let out: string | undefined;
  let rebuildBatches = [1000, 10_000];
  let kekCacheMax: number | undefined;
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} needs a positive integer\n${USAGE}`);
    return n;
  };
  while (args.length > 0) {
    const a = args.shift()!;
    switch (a) {
      case '--quick': break;
      case '--only': parts = (args.shift() ?? '').split(',').map((p) => {
        if (!(PARTS as readonly string[]).includes(p)) throw new UsageError(`--only: unknown part ${p}\n${USAGE}`);
        return p as Part;
      }); break;
      case '--keys': keys = num(a, args.shift()); break;
      case '--events': events = num(a, args.shift()); break;
      case '--audit-entries': auditEntries = num(a, args.shift()); break;
      case '--duration-ms': durationMs = num(a, args.shift()); break;
      case '--kek-cache-max': kekCacheMax = num(a, args.shift()); break;
      case '--rebuild-batch': rebuildBatches = (args.shift() ?? '').split(',').map((x) => num(a, x)); break;
      case '--out': out = args.shift(); break;
      case '--help': case '-h': throw new UsageError(USAGE);
      default: throw new UsageError(`unknown option ${a}\n${USAGE}`);
    }
  }
  if (keys < 200) throw new UsageError('--keys must be at least 200 (the small set is 100 keys)');
  return { quick, parts, keys, events, auditEntries, durationMs, rebuildBatches, ...(kekCacheMax !== undefined ? { kekCacheMax } : {}), ...(out ? { out } : {}) };
}

/** The stack's Postgres URL with another database name. */
function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

async function createDatabase(adminUrl: string, db: string): Promise<string> {
  const c = new Client({ connectionString: adminUrl });
  await c.connect();
  await c.query(`CREATE DATABASE ${db}`);
  await c.end();
  return withDatabase(adminUrl, db);
}

/** ms from now until GET /health/ready answers 200 (the ready log line comes first). */
async function untilHealthReady(url: string, timeoutMs = 60_000): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    try {
      const r = await fetch(`${url}/health/ready`);
      if (r.status === 200) return Math.round(performance.now() - t0);
    } catch { /* not listening yet */ }
    if (performance.now() - t0 > timeoutMs) throw new Error(`/health/ready not 200 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface StartupFigure { readonly keys: number; readonly readyLineMs: number; readonly healthReadyMs: number }

async function restartKeys(stack: PrivateStack, keys: number): Promise<StartupFigure> {
  await stack.stopKeys();
  const t0 = performance.now();
  const readyLineMs = await stack.startKeys();
  await untilHealthReady(stack.keysHealthUrl);
  return { keys, readyLineMs, healthReadyMs: Math.round(performance.now() - t0) };
}

interface LoadFigure {
  readonly keys: number; readonly op: BenchOp; readonly run: RunResult;
  readonly keysCpuUsPerRequest: number | null; readonly postgresCpuUsPerRequest: number | null;
  /** Transactions (each a statement outside BEGIN…COMMIT) Postgres committed in database ekm, per request. */
  readonly pgTransactionsPerRequest: number;
  readonly loadavg: number[];
}

/** Committed + rolled-back transactions of database `ekm` so far (pg_stat_database, as seen by a fresh connection). */
async function pgTransactions(adminUrl: string): Promise<number> {
  const c = new Client({ connectionString: adminUrl });
  await c.connect();
  try {
    return Number((await c.query<{ n: string }>(`SELECT (xact_commit + xact_rollback)::text AS n FROM pg_stat_database WHERE datname = 'ekm'`)).rows[0].n);
  } finally {
    await c.end();
  }
}

async function loadRuns(stack: PrivateStack, worker: LoadWorker, keys: number, durationMs: number): Promise<LoadFigure[]> {
  const out: LoadFigure[] = [];
  for (const op of ['generate-data-key', 'decrypt'] as const) {
    const pid = stack.pids.keys!;
    const pgPid = stack.pids.postgres!;
    const before = { keys: cpuSeconds(pid), pg: treeCpuSeconds(pgPid), tx: await pgTransactions(stack.adminUrl) };
    const run = await worker.ask({ type: 'run', natsUrl: stack.natsUrl, target: { kind: 'ekm' }, caller: callerOf(stack), op, concurrency: 64, warmupMs: 500, durationMs }, 'run');
    const after = { keys: cpuSeconds(pid), pg: treeCpuSeconds(pgPid), tx: await pgTransactions(stack.adminUrl) };
    // CPU and transactions are read around the whole run (warm-up included): divide by the requests of the whole run.
    const all = Math.round(run.requestsPerSecond * ((500 + durationMs) / 1000)) || run.requests;
    const perRequest = (a: number | null, b: number | null): number | null => (a === null || b === null || all === 0 ? null : Math.round(((b - a) / all) * 1e6));
    const keysCpuUsPerRequest = perRequest(before.keys, after.keys);
    const postgresCpuUsPerRequest = perRequest(before.pg, after.pg);
    const pgTransactionsPerRequest = Math.round(((after.tx - before.tx) / Math.max(1, all)) * 100) / 100;
    log(`${keys} keys, ${op} @64: ${run.requestsPerSecond}/s p50 ${run.latency.p50Ms} p99 ${run.latency.p99Ms} ms, keys ${keysCpuUsPerRequest} µs/req, `
      + `Postgres ${postgresCpuUsPerRequest} µs/req, ${pgTransactionsPerRequest} pg transactions/req, errors ${run.errors} ${JSON.stringify(run.errorCodes)}`);
    out.push({ keys, op, run, keysCpuUsPerRequest, postgresCpuUsPerRequest, pgTransactionsPerRequest, loadavg: loadAverage() });
  }
  return out;
}

async function keysPart(o: ScaleOptions, stack: PrivateStack): Promise<Record<string, unknown>> {
  const worker = LoadWorker.start();
  try {
    const caller = callerOf(stack);
    // The small set: 50 keys through the bus (the main bench's fixture) + 50 seeded, so both sizes hold keys written both ways.
    log('creating the 50-key fixture through the keys service');
    const viaBus = await prepareFixture(stack.natsUrl, caller);
    await stack.stopKeys();
    const root = SoftwareRootOfTrust.open({ dataDir: stack.keysDataDir, env: 'development', secret: stack.rootSecret });
    let small: Fixture;
    let big: Fixture;
    let seeded;
    try {
      const first = await seedKeys({ adminUrl: stack.adminUrl, root, count: 50, tenants: 5 });
      const offset = viaBus.keys.length;
      small = { keys: [...viaBus.keys, ...first.keys], blobs: [...viaBus.blobs, ...first.blobs.map((b) => ({ ...b, keyIndex: b.keyIndex + offset }))] };
      const startup100 = await restartKeys(stack, 100);
      log(`start-up with 100 keys: ready line ${startup100.readyLineMs} ms, /health/ready ${startup100.healthReadyMs} ms`);
      worker.send({ type: 'fixture', fixture: small });
      await worker.ask({ type: 'run', natsUrl: stack.natsUrl, target: { kind: 'ekm' }, caller, op: 'generate-data-key', concurrency: 16, warmupMs: 0, durationMs: 1500 }, 'run');
      const load100 = await loadRuns(stack, worker, 100, o.durationMs);

      await stack.stopKeys();
      log(`seeding ${o.keys - 100} more keys (bulk: domain events, root-wrapped KEKs, KeyProjection)`);
      let lastLog = 0;
      seeded = await seedKeys({
        adminUrl: stack.adminUrl, root, count: o.keys - 100, tenants: 50, chunk: 1000,
        onProgress: (n) => { if (Date.now() - lastLog > 10_000) { lastLog = Date.now(); log(`  seeded ${n} keys`); } },
      }, 50);
      log(`seeded ${o.keys - 100} keys (${seeded.events} events) in ${(seeded.ms / 1000).toFixed(1)} s`);
      const offsetBig = small.keys.length;
      big = { keys: [...small.keys, ...seeded.keys], blobs: [...small.blobs, ...seeded.blobs.map((b) => ({ ...b, keyIndex: b.keyIndex + offsetBig }))] };
      const startupBig = await restartKeys(stack, o.keys);
      log(`start-up with ${o.keys} keys: ready line ${startupBig.readyLineMs} ms, /health/ready ${startupBig.healthReadyMs} ms`);
      const db = new Client({ connectionString: stack.adminUrl });
      await db.connect();
      const counted = Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM ekm_keys.keys')).rows[0].n);
      await db.end();
      worker.send({ type: 'fixture', fixture: big });
      // Same warm-up as the small set: at 100k keys most requests still meet a cold KEK (that is the figure).
      await worker.ask({ type: 'run', natsUrl: stack.natsUrl, target: { kind: 'ekm' }, caller, op: 'generate-data-key', concurrency: 16, warmupMs: 0, durationMs: 1500 }, 'run');
      const loadBig = await loadRuns(stack, worker, o.keys, o.durationMs);
      return { keysInProjection: counted, seedMs: seeded.ms, seedEvents: seeded.events, startup: [startup100, startupBig], load: [...load100, ...loadBig] };
    } finally {
      await root.close();
    }
  } finally {
    await worker.stop().catch(() => undefined);
  }
}

async function rebuildPart(o: ScaleOptions, stack: PrivateStack): Promise<Record<string, unknown>> {
  await stack.stopKeys();
  const url = await createDatabase(stack.adminUrl, 'ekm_rebuild');
  await migrateServiceSchema({ adminUrl: url, service: 'keys', extraMigrations: [KeysSchemaMigration] });
  log(`seeding ${o.events} events of key streams`);
  let lastLog = 0;
  const mix = await seedEventMix(url, o.events, (n) => { if (Date.now() - lastLog > 10_000) { lastLog = Date.now(); log(`  ${n} events`); } });
  log(`seeded ${mix.events} events over ${mix.keys} keys in ${(mix.ms / 1000).toFixed(1)} s: ${JSON.stringify(mix.byType)}`);
  const admin = new Client({ connectionString: url });
  await admin.connect();
  await admin.query('VACUUM ANALYZE');
  const keysRows = async (): Promise<number> => Number((await admin.query<{ n: string }>('SELECT count(*)::text AS n FROM ekm_keys.keys')).rows[0].n);
  const pool = new Pool({ connectionString: url, max: 2 });
  try {
    const library: Record<string, unknown>[] = [];
    // Each batch size with the projection writing after every batch, then with writes deferred to the end
    // (RebuildKeyProjection: each key written once; what `ekm admin rebuild` uses).
    for (const batchSize of o.rebuildBatches) for (const deferWrites of [false, true]) {
      const loadavgBefore = loadAverage();
      const t0 = performance.now();
      const lib = await rebuildProjection({ pool, service: 'keys', projection: deferWrites ? new RebuildKeyProjection('keys') : new KeyProjection('keys'), batchSize });
      const ms = Math.round(performance.now() - t0);
      const rows = await keysRows();
      const heapMiB = Math.round(process.memoryUsage().heapUsed / 2 ** 20);
      log(`rebuildProjection (batch ${batchSize}${deferWrites ? ', deferred writes' : ''}): ${lib.applied} events in ${(ms / 1000).toFixed(1)} s (${Math.round(lib.applied / (ms / 1000))}/s), ${rows} keys`);
      library.push({ batchSize, deferWrites, applied: lib.applied, ms, eventsPerSecond: Math.round(lib.applied / (ms / 1000)), keysRows: rows, heapMiB, loadavgBefore });
    }
    const loadMid = loadAverage();
    const cli = await rebuildKeysProjection(url);
    const cliKeys = await keysRows();
    log(`CLI rebuild: ${cli.events} events in ${(cli.durationMs / 1000).toFixed(1)} s (${Math.round(cli.events / (cli.durationMs / 1000))}/s), ${cliKeys} keys`);
    return {
      events: mix.events, keys: mix.keys, liveKeys: mix.liveKeys, byType: mix.byType, seedMs: mix.ms, library,
      cli: { applied: cli.events, ms: cli.durationMs, eventsPerSecond: Math.round(cli.events / (cli.durationMs / 1000)), keysRows: cliKeys, loadavgBefore: loadMid },
    };
  } finally {
    await pool.end();
    await admin.end();
  }
}

async function auditPart(o: ScaleOptions, stack: PrivateStack): Promise<Record<string, unknown>> {
  await stack.stopKeys();
  const url = await createDatabase(stack.adminUrl, 'ekm_audit_scale');
  await migrateServiceSchema({ adminUrl: url, service: 'audit', extraMigrations: [AuditTrailMigration, AuditTrailBatchMigration] });
  const pool = new Pool({ connectionString: url, max: 4 });
  const dataDir = mkdtempSync(join(tmpdir(), 'ekm-bench-scale-audit-'));
  const root = SoftwareRootOfTrust.open({ dataDir, env: 'development', secret: 'bench-scale-audit-root-01' });
  try {
    const signer = await AuditSigner.load(pool, root);
    const appender = new TrailAppender({ pool, signer, checkpointEvery: 1000 });
    const stream = `usage-${randomUUID()}`;
    const t0 = performance.now();
    for (let done = 0; done < o.auditEntries; done += 2000) {
      const n = Math.min(2000, o.auditEntries - done);
      await appender.appendMany(Array.from({ length: n }, (_, i) => {
        const p = done + i + 1;
        return {
          service: 'keys', eventId: randomUUID(), type: 'KeyUsageRecorded', streamId: stream, streamPosition: p, globalPosition: String(p), recordedAt: new Date().toISOString(),
          data: { requestId: randomUUID(), principal: 'service:bench', tenant: `t${p % 20}`, operation: p % 2 ? 'GenerateDataKey' : 'Decrypt', keyId: `k-${p % 5000}`, keyVersion: 1, encryptionContext: { tenant: `t${p % 20}`, collection: `c${p % 500}`, asset: `a${p}` }, outcome: 'ALLOWED', at: new Date().toISOString() },
          meta: { actor: 'service:bench', correlationId: randomUUID() },
        };
      }));
    }
    const appendMs = Math.round(performance.now() - t0);
    log(`appended ${o.auditEntries} trail entries in ${(appendMs / 1000).toFixed(1)} s`);
    const runs: { ms: number; entriesPerSecond: number; loadavg: number[] }[] = [];
    let entries = 0;
    for (let i = 0; i < 3; i++) {
      const t1 = performance.now();
      const r = await verifyTrail(new TrailReader(pool), { verifySignature: (p, s) => signer.verify(p, s) });
      const ms = performance.now() - t1;
      if (!r.ok) throw new Error(`verify failed on a freshly written trail: ${r.reason}`);
      entries = r.entries;
      runs.push({ ms: Math.round(ms), entriesPerSecond: Math.round(r.entries / (ms / 1000)), loadavg: loadAverage() });
      log(`verify ${r.entries} entries (${r.checkpoints} checkpoints): ${Math.round(ms)} ms = ${runs[i].entriesPerSecond}/s`);
    }
    return { entries, appendMs, verify: runs, bestEntriesPerSecond: Math.max(...runs.map((r) => r.entriesPerSecond)), medianEntriesPerSecond: runs.map((r) => r.entriesPerSecond).sort((a, b) => a - b)[1] };
  } finally {
    await root.close();
    await pool.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface Verdict { readonly target: string; readonly measured: string; readonly verdict: string }

function verdicts(result: Record<string, unknown>, o: ScaleOptions): Verdict[] {
  const out: Verdict[] = [];
  const keys = result.keys as { startup: StartupFigure[]; load: LoadFigure[] } | undefined;
  if (keys) {
    const [s100, sBig] = keys.startup;
    out.push({ target: 'start-up ≤ 10 s', measured: `${(sBig.healthReadyMs / 1000).toFixed(1)} s to /health/ready with ${sBig.keys} keys (100 keys: ${(s100.healthReadyMs / 1000).toFixed(1)} s)`, verdict: sBig.healthReadyMs <= 10_000 ? 'met' : 'not met' });
    for (const op of ['generate-data-key', 'decrypt'] as const) {
      const a = keys.load.find((l) => l.op === op && l.keys === 100)!;
      const b = keys.load.find((l) => l.op === op && l.keys !== 100)!;
      const tput = b.run.requestsPerSecond / a.run.requestsPerSecond;
      const p50 = b.run.latency.p50Ms / a.run.latency.p50Ms;
      const p99 = b.run.latency.p99Ms / a.run.latency.p99Ms;
      const within = tput >= 0.9 && p50 <= 1.1 && p99 <= 1.1;
      out.push({
        target: `${op} @64 with ${b.keys} keys within 10 % of 100 keys`,
        measured: `${b.run.requestsPerSecond}/s vs ${a.run.requestsPerSecond}/s (×${tput.toFixed(2)}), p50 ${b.run.latency.p50Ms} vs ${a.run.latency.p50Ms} ms (×${p50.toFixed(2)}), p99 ${b.run.latency.p99Ms} vs ${a.run.latency.p99Ms} ms (×${p99.toFixed(2)}); errors ${b.run.errors}`,
        verdict: b.run.errors > 0 || a.run.errors > 0 ? 'errors: see JSON' : within ? 'met' : 'not met',
      });
    }
  }
  type Rebuilt = { ms: number; eventsPerSecond: number; batchSize?: number; deferWrites?: boolean };
  const rebuild = result.rebuild as { events: number; library: Rebuilt[]; cli: Rebuilt } | undefined;
  if (rebuild) {
    // Scaled to 1M when a smaller log was rebuilt (--quick): the time is about linear in events.
    const scale = 1_000_000 / rebuild.events;
    const runs: [string, Rebuilt][] = [...rebuild.library.map((r): [string, Rebuilt] => [`rebuildProjection, batch ${r.batchSize}${r.deferWrites === true ? ', deferred writes' : ''}`, r]), ['CLI ekm admin rebuild (deferred writes)', rebuild.cli]];
    for (const [name, r] of runs) {
      const projected = (r.ms / 1000) * scale;
      out.push({
        target: `projection rebuild of 1,000,000 events ≤ 60 s (${name})`,
        measured: `${rebuild.events} events in ${(r.ms / 1000).toFixed(1)} s = ${r.eventsPerSecond}/s${scale !== 1 ? ` (→ ${projected.toFixed(0)} s for 1M)` : ''}`,
        verdict: projected <= 60 ? 'met' : `not met (×${(projected / 60).toFixed(1)})`,
      });
    }
  }
  const audit = result.audit as { entries: number; medianEntriesPerSecond: number; bestEntriesPerSecond: number } | undefined;
  if (audit) {
    out.push({ target: 'audit verify ≥ 100k entries/s', measured: `${audit.medianEntriesPerSecond}/s median of 3 (best ${audit.bestEntriesPerSecond}/s), ${audit.entries} entries`, verdict: audit.medianEntriesPerSecond >= 100_000 ? 'met' : `not met (×${(audit.medianEntriesPerSecond / 100_000).toFixed(2)})` });
  }
  void o;
  return out;
}

async function main(argv: readonly string[]): Promise<void> {
  const o = parseArgs(argv);
  const startedAt = new Date();
  const loadBefore = loadAverage();
  log('starting a private Postgres, nats-server and keys service');
  const stack = await startPrivateStack(o.kekCacheMax !== undefined ? { env: { EKM_KEK_CACHE_MAX: String(o.kekCacheMax) } } : {});
  const result: Record<string, unknown> = {};
  const stop = (): void => { void stack.stop().finally(() => process.exit(130)); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    if (o.parts.includes('keys')) result.keys = await keysPart(o, stack);
    if (o.parts.includes('rebuild')) result.rebuild = await rebuildPart(o, stack);
    if (o.parts.includes('audit')) result.audit = await auditPart(o, stack);
  } finally {
    await stack.stop();
  }
  const table = verdicts(result, o);
  const out = {
    startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), mode: o.quick ? 'quick' : 'full',
    machine: { hostname: hostname(), cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, loadavgBefore: loadBefore, loadavgAfter: loadAverage() },
    settings: {
      keys: o.keys, events: o.events, auditEntries: o.auditEntries, durationMs: o.durationMs, concurrency: 64, security: stack.security,
      kekCacheMax: o.kekCacheMax ?? 'service default (1000)', rebuildBatches: o.rebuildBatches,
    },
    ...result, targets: table,
  };
  process.stdout.write(`\n| target (issue 8) | measured | verdict |\n|---|---|---|\n${table.map((t) => `| ${t.target} | ${t.measured} | ${t.verdict} |`).join('\n')}\n\n`
    + `Load average before/after: ${loadBefore.join(' ')} / ${out.machine.loadavgAfter.join(' ')}.\n`);
  const file = o.out ?? join(repoRoot(), 'test', 'bench', 'results', `scale-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  log(`wrote ${file}`);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(() => process.exit(0), (err: unknown) => {
    process.stderr.write(`${err instanceof UsageError ? err.message : `bench:scale failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  });
}
