/**
 * `npm run bench`: EKM's hot path against the bus's own limit. Starts (or attaches to) the stack, an
 * echo responder and a load-generator process; runs every operation at every concurrency, each EKM
 * run followed by an echo run with the same request and reply sizes; prints a markdown table and
 * writes JSON to test/bench/results/. See docs/performance.md.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { join } from 'node:path';
import { BenchUsageError, parseBenchArgs, type BenchOptions } from './bench-options';
import { Accountant } from './accounting';
import { accountingTable, aesLine, evaluateTargets, markdownTable, ratiosOf, targetsTable, type BenchRow } from './bench-report';
import { attachStack, repoRoot, startPrivateStack, stopChild, type BenchStack, type PrivateStack } from './bench-stack';
import { prepareFixture } from './bench-fixture';
import { Client } from 'pg';
import { SoftwareRootOfTrust } from '@ekm/crypto';
import { seedKeys } from './scale-seed';
import { prefillTrail } from './trail-prefill';
import { profileMarkdown, summarizeProfile, type CpuProfile } from './cpu-profile-summary';
import type { BenchOp, Fixture } from './load-scenarios';
import type { AesResult, RunResult, WorkerCaller, WorkerCommand, WorkerReply, WorkerTarget } from './load-worker';
import { cpuSeconds, loadAverage, memoryMiB, treeCpuSeconds } from './proc-stats';

const PRINCIPAL = 'bench-caller';
const log = (s: string): void => { process.stderr.write(`[bench] ${s}\n`); };

type ResultOf<T extends 'run' | 'aes'> = T extends 'run' ? RunResult : AesResult;

/** The load-generator process and a request/response helper over its IPC channel. */
export class LoadWorker {
  private constructor(readonly child: ChildProcess) {}

  static start(): LoadWorker {
    return new LoadWorker(fork(join(__dirname, 'load-worker.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }

  send(cmd: WorkerCommand): void {
    this.child.send(cmd);
  }

  ask<T extends 'run' | 'aes'>(cmd: WorkerCommand, type: T): Promise<ResultOf<T>> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`load worker exited (${code})`));
      this.child.once('exit', onExit);
      this.child.once('message', (m: WorkerReply) => {
        this.child.off('exit', onExit);
        if (m.type === 'error') reject(new Error(`load worker: ${m.message}`));
        else if (m.type !== type) reject(new Error(`load worker answered ${m.type}, expected ${type}`));
        else resolve(m.result as ResultOf<T>);
      });
      this.child.send(cmd);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.send({ type: 'exit' });
    await exited;
  }
}

async function startEcho(stack: BenchStack): Promise<ChildProcess> {
  const login = stack.echoNatsLogin;
  const child = spawn(process.execPath, [join(__dirname, 'echo-responder.js'), stack.natsUrl, login?.credentialsFile ?? '', login?.tlsCaFile ?? ''], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`echo responder exited (${code})`)));
  });
  return child;
}

interface CpuSnapshot { keys: number | null; nats: number | null; postgres: number | null }
const snapshot = (s: BenchStack): CpuSnapshot => ({
  keys: s.pids.keys ? cpuSeconds(s.pids.keys) : null,
  nats: s.pids.nats ? cpuSeconds(s.pids.nats) : null,
  postgres: s.pids.postgres ? treeCpuSeconds(s.pids.postgres) : null,
});
const perRequestUs = (a: number | null, b: number | null, n: number): number | null => (a === null || b === null || n === 0 ? null : Math.round(((b - a) / n) * 1e6 * 10) / 10);

/** Wall-clock windows of the EKM runs (not the echo runs): what a CPU profile is cut to. */
const loadWindows: Array<{ from: number; to: number }> = [];

export const callerOf = (stack: BenchStack): WorkerCaller => ({
  principal: PRINCIPAL,
  ...(stack.authSecret ? { authSecret: stack.authSecret } : {}),
  ...(stack.credentialsFile !== undefined ? { credentialsFile: stack.credentialsFile } : {}),
  ...(stack.natsLogin ? { nats: stack.natsLogin } : {}),
  ...(stack.serviceKey !== undefined ? { serviceKey: stack.serviceKey } : {}),
});

async function measure(opts: BenchOptions, stack: BenchStack, worker: LoadWorker, accountant: Accountant, op: BenchOp, concurrency: number, scenario?: string): Promise<BenchRow> {
  const target: WorkerTarget = { kind: 'ekm' };
  const caller = callerOf(stack);
  const before = snapshot(stack);
  const accBefore = await accountant.snapshot();
  const from = Date.now() + opts.warmupMs;
  const ekm = await worker.ask({ type: 'run', natsUrl: stack.natsUrl, target, caller, op, concurrency, warmupMs: opts.warmupMs, durationMs: opts.durationMs }, 'run');
  const after = snapshot(stack);
  const accAfter = await accountant.snapshot();
  loadWindows.push({ from, to: Date.now() });
  // CPU is read around the whole run (warm-up included): scale by the requests of the whole run.
  const all = ekm.requestsWithWarmup || ekm.requests;
  const ekmAccounting = await accountant.between(accBefore, accAfter, all);
  let echo: RunResult | null = null;
  let echoAccounting = null;
  if (opts.echoDurationMs > 0) {
    const echoBefore = await accountant.snapshot();
    echo = await worker.ask({
      type: 'run', natsUrl: stack.natsUrl, target: { kind: 'echo', replyBytes: Math.max(16, ekm.avgReplyBytes) }, caller, op, concurrency,
      warmupMs: Math.min(300, opts.warmupMs), durationMs: opts.echoDurationMs,
    }, 'run');
    echoAccounting = await accountant.between(echoBefore, await accountant.snapshot(), echo.requestsWithWarmup || echo.requests);
  }
  const row: BenchRow = {
    op, concurrency, ...(scenario !== undefined ? { scenario } : {}), ekm, echo,
    accounting: { ekm: ekmAccounting, echo: echoAccounting },
    cpu: {
      keysUs: perRequestUs(before.keys, after.keys, all), natsUs: perRequestUs(before.nats, after.nats, all),
      postgresUs: perRequestUs(before.postgres, after.postgres, all), callerUs: Math.round((ekm.callerCpuSeconds / Math.max(1, ekm.requests)) * 1e7) / 10,
    },
    ratio: ratiosOf(ekm, echo),
  };
  log(`${scenario ? `[${scenario}] ` : ''}${op} @${concurrency}: ${ekm.requestsPerSecond}/s p50 ${ekm.latency.p50Ms} p99 ${ekm.latency.p99Ms} ms, echo ${echo?.requestsPerSecond ?? '–'}/s (×${row.ratio.throughput ?? '–'}), `
    + `CPU ${ekmAccounting.allCpuUs ?? '–'} µs/req (echo ${echoAccounting?.allCpuUs ?? '–'}), errors ${ekm.errors}${ekm.errors > 0 ? ` ${JSON.stringify(ekm.errorCodes)}` : ''}`);
  return row;
}

function peakMemory(stack: BenchStack, extra: Record<string, ChildProcess | undefined>): Record<string, { peakRssMiB: number; rssMiB: number } | null> {
  const out: Record<string, { peakRssMiB: number; rssMiB: number } | null> = {};
  if (stack.pids.keys) out.keys = memoryMiB(stack.pids.keys);
  if (stack.pids.nats) out['nats-server'] = memoryMiB(stack.pids.nats);
  if (stack.pids.postgres) out['postgres (postmaster)'] = memoryMiB(stack.pids.postgres);
  for (const [name, child] of Object.entries(extra)) if (child?.pid) out[name] = memoryMiB(child.pid);
  return out;
}

/** What the scale rows found and how long their preparation took (the JSON's `scale`). */
interface ScaleInfo {
  trail?: { entriesBefore: number; prefilled: number; entriesAfter: number; prefillMs: number; prefillEntriesPerSecond: number; auditRestartMs: number; markedRelayed: boolean; method: string };
  keys?: { small: number; big: number; seedMs: number; keysRestartMs: number[]; method: string };
}

/** Trail entries, and how far the audit service's SIEM relay has published them. */
async function trailState(stack: PrivateStack): Promise<{ entries: number; published: number }> {
  const c = new Client({ connectionString: stack.adminUrl });
  await c.connect();
  try {
    const { rows } = await c.query<{ n: string; p: string }>('SELECT (SELECT count(*) FROM ekm_audit.trail)::text AS n, (SELECT published_through FROM ekm_audit.siem_relay WHERE id = 1)::text AS p');
    return { entries: Number(rows[0].n), published: Number(rows[0].p) };
  } finally {
    await c.end();
  }
}

/**
 * Waits until the audit service has caught up (the trail stopped growing for 1 s and the SIEM relay
 * published all of it), so a row starts with no backlog; gives up after 2 minutes.
 */
async function trailSettled(stack: PrivateStack): Promise<number> {
  let last = -1;
  for (let i = 0; i < 120; i++) {
    const s = await trailState(stack);
    if (s.entries === last && s.published >= s.entries) return s.entries;
    last = s.entries;
    await new Promise((r) => setTimeout(r, 1000));
  }
  log(`the audit service had not caught up after 2 minutes (${last} entries)`);
  return last;
}

const count = (n: number): string => n.toLocaleString('en-US');

/**
 * The scale rows, GenerateDataKey and Decrypt at `scale.concurrency` in flight each with its echo run:
 * 1. the trail as this run left it, then the same with `trailEntries` more prefilled (audit service
 *    stopped, trail-prefill.ts, audit started again on the longer chain);
 * 2. over 100 keys (the 50-key fixture + 50 seeded), then over `spreadKeys` keys (scale-seed.ts, as
 *    bench:scale seeds them; keys service stopped while seeding). Labelled with the real sizes.
 */
async function scaleRows(opts: BenchOptions, stack: PrivateStack, worker: LoadWorker, reopen: () => Promise<Accountant>, fixture: Fixture, rows: BenchRow[]): Promise<ScaleInfo> {
  const o = opts.scale!;
  const info: ScaleInfo = {};
  const caller = callerOf(stack);
  const warm = async (): Promise<void> => {
    for (const op of ['generate-data-key', 'decrypt'] as const) {
      await worker.ask({ type: 'run', natsUrl: stack.natsUrl, target: { kind: 'ekm' }, caller, op, concurrency: 16, warmupMs: 0, durationMs: opts.warmupMs * 2 }, 'run');
    }
  };
  const pair = async (acc: Accountant, scenario: string): Promise<void> => {
    for (const op of ['generate-data-key', 'decrypt'] as const) rows.push(await measure(opts, stack, worker, acc, op, o.concurrency, scenario));
  };
  if (o.trailEntries > 0) {
    const before = await trailSettled(stack);
    await pair(await reopen(), `trail ${count(before)}`);
    await stack.stopAudit();
    const base = (await trailState(stack)).entries;
    log(`prefilling ${count(o.trailEntries)} trail entries on ${count(base)} (audit service's TrailAppender and signing key)`);
    let lastLog = 0;
    const filled = await prefillTrail({
      databaseUrl: stack.adminUrl, dataDir: stack.auditDataDir!, rootSecret: stack.auditRootSecret!, entries: o.trailEntries,
      onProgress: (n) => { if (Date.now() - lastLog > 10_000) { lastLog = Date.now(); log(`  ${count(n)} entries`); } },
    });
    log(`prefilled ${count(filled.entries)} entries in ${(filled.ms / 1000).toFixed(1)} s (${Math.round(filled.entries / (filled.ms / 1000))}/s); head ${count(filled.head)}; `
      + `${filled.markedRelayed ? 'marked as published by the SIEM relay' : 'NOT marked as published (the relay was behind): it republishes them during the rows'}`);
    const auditRestartMs = await stack.startAudit();
    log(`audit service ready on the longer trail in ${auditRestartMs} ms`);
    const acc = await reopen();
    await warm();
    const after = await trailSettled(stack);
    await pair(acc, `trail ${count(after)}`);
    info.trail = {
      entriesBefore: before, prefilled: filled.entries, entriesAfter: after, prefillMs: filled.ms, prefillEntriesPerSecond: Math.round(filled.entries / (filled.ms / 1000)), auditRestartMs, markedRelayed: filled.markedRelayed,
      method: 'test/bench/trail-prefill.ts: the audit TrailAppender (canonical entries, hash chain, query columns, checkpoints every 1000 signed with the service key), 20,000 entries per transaction; siem_relay moved past them (relayed long ago)',
    };
  }
  if (o.spreadKeys > 0) {
    await stack.stopKeys();
    const root = SoftwareRootOfTrust.open({ dataDir: stack.keysDataDir, env: 'development', secret: stack.rootSecret });
    try {
      const first = await seedKeys({ adminUrl: stack.adminUrl, root, count: 100 - fixture.keys.length, tenants: 5 }, fixture.keys.length);
      const small: Fixture = { keys: [...fixture.keys, ...first.keys], blobs: [...fixture.blobs, ...first.blobs.map((b) => ({ ...b, keyIndex: b.keyIndex + fixture.keys.length }))] };
      const restart = [await stack.startKeys()];
      let acc = await reopen();
      worker.send({ type: 'fixture', fixture: small });
      await warm();
      if (stack.auditDataDir) await trailSettled(stack);
      await pair(acc, `${count(small.keys.length)} keys`);
      await stack.stopKeys();
      log(`seeding ${count(o.spreadKeys - small.keys.length)} more keys (scale-seed.ts: domain events, root-wrapped KEKs, KeyProjection)`);
      let lastLog = 0;
      const seeded = await seedKeys({
        adminUrl: stack.adminUrl, root, count: o.spreadKeys - small.keys.length, tenants: 50, chunk: 1000,
        onProgress: (n) => { if (Date.now() - lastLog > 10_000) { lastLog = Date.now(); log(`  seeded ${count(n)} keys`); } },
      }, small.keys.length);
      log(`seeded ${count(seeded.keys.length)} keys in ${(seeded.ms / 1000).toFixed(1)} s`);
      const big: Fixture = { keys: [...small.keys, ...seeded.keys], blobs: [...small.blobs, ...seeded.blobs.map((b) => ({ ...b, keyIndex: b.keyIndex + small.keys.length }))] };
      restart.push(await stack.startKeys());
      acc = await reopen();
      worker.send({ type: 'fixture', fixture: big });
      await warm();
      if (stack.auditDataDir) await trailSettled(stack);
      await pair(acc, `${count(big.keys.length)} keys`);
      info.keys = {
        small: small.keys.length, big: big.keys.length, seedMs: first.ms + seeded.ms, keysRestartMs: restart,
        method: 'test/bench/scale-seed.ts seedKeys (as bench:scale); the small set is the 50-key fixture + 50 seeded, the big set adds the rest; requests spread uniformly over the set',
      };
    } finally {
      await root.close();
    }
  }
  return info;
}

async function main(argv: readonly string[]): Promise<void> {
  const opts = parseBenchArgs(argv);
  const startedAt = new Date();
  const loadBefore = loadAverage();
  const profileDir = opts.profile ? join(repoRoot(), '.ekm', 'bench-profile', startedAt.toISOString().replace(/[:.]/g, '-')) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  if (opts.profile && opts.stack !== undefined) throw new BenchUsageError('--profile starts its own keys service: drop --stack');
  log(opts.stack !== undefined ? 'attaching to the running stack' : 'starting a private Postgres, nats-server and keys service');
  const priv = opts.stack !== undefined ? undefined : await startPrivateStack({ auth: opts.auth, ...(opts.scale ? { audit: true } : {}), ...(profileDir ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir] } : {}) });
  const stack: BenchStack = priv ?? attachStack(opts.stack || undefined);
  let echo: ChildProcess | undefined;
  let accountant: Accountant | undefined;
  const worker = LoadWorker.start();
  try {
    echo = opts.echoDurationMs > 0 ? await startEcho(stack) : undefined;
    // Every process a request touches: the EKM services, nats-server, the load generator, the echo responder; Postgres by backend role.
    // Opened again after a service restarts (scale rows): its pid changed.
    const openAccountant = (): Promise<Accountant> => Accountant.open({
      processes: { ...stack.services, 'nats-server': stack.pids.nats, 'load generator': worker.child.pid, ...(echo?.pid ? { 'echo responder': echo.pid } : {}) },
      ...(stack.pids.postgres ? { postgresPid: stack.pids.postgres } : {}),
      ...(stack.postgresUrl ? { postgresUrl: stack.postgresUrl } : {}),
      ...(stack.natsMonitorUrl ? { natsMonitorUrl: stack.natsMonitorUrl } : {}),
    });
    accountant = await openAccountant();
    log(`keys service ready${stack.keysStartupMs !== undefined ? ` in ${stack.keysStartupMs} ms` : ''}; creating 50 keys in 5 tenants and 200 blobs`);
    const fixture = await prepareFixture(stack.natsUrl, callerOf(stack));
    worker.send({ type: 'fixture', fixture });
    const aes: AesResult | null = opts.aesMs > 0 ? await worker.ask({ type: 'aes', durationMs: opts.aesMs }, 'aes') : null;
    if (aes) log(aesLine(aes));
    // Warm the hot path (JIT, KEK and key-state caches, pool connections, the relay's backlog of fixture events) before measuring.
    for (const op of ['generate-data-key', 'decrypt'] as const) {
      await worker.ask({ type: 'run', natsUrl: stack.natsUrl, target: { kind: 'ekm' }, caller: callerOf(stack), op, concurrency: 16, warmupMs: 0, durationMs: opts.warmupMs * 2 }, 'run');
    }
    const rows: BenchRow[] = [];
    for (const op of opts.ops) for (const c of opts.concurrency) rows.push(await measure(opts, stack, worker, accountant, op, c));
    let scale: ScaleInfo | undefined;
    if (opts.scale && priv) {
      const reopen = async (): Promise<Accountant> => { await accountant?.close(); accountant = await openAccountant(); return accountant; };
      scale = await scaleRows(opts, priv, worker, reopen, fixture, rows);
    }
    const memory = peakMemory(stack, { 'echo responder': echo, 'load generator': worker.child });
    const targets = evaluateTargets(rows, stack.keysStartupMs);
    const result = {
      startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), mode: opts.quick ? 'quick' : 'full', profile: opts.profile,
      machine: { hostname: hostname(), cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, loadavgBefore: loadBefore, loadavgAfter: loadAverage() },
      stack: { mode: stack.mode, natsUrl: stack.natsUrl, keysStartupMs: stack.keysStartupMs ?? null, security: stack.security, durableUsageRecords: true },
      settings: { warmupMs: opts.warmupMs, durationMs: opts.durationMs, echoDurationMs: opts.echoDurationMs, batchItems: 10, keys: fixture.keys.length, tenants: 5 },
      aes, rows, memory, targets, ...(scale ? { scale } : {}),
    };
    const table = markdownTable(rows);
    process.stdout.write(`\n${table}\n\nPer request (warm-up included; \`ekm\` the EKM run, \`echo\` the echo run right after it):\n\n${accountingTable(rows)}\n\n${aesLine(aes)}\n\nPeak RSS (VmHWM, MiB): ${Object.entries(memory).map(([k, v]) => `${k} ${v?.peakRssMiB ?? '–'}`).join(', ')}. `
      + `Load average before/after: ${loadBefore.join(' ')} / ${result.machine.loadavgAfter.join(' ')}. Auth: ${stack.security.auth}; authz: ${stack.security.authz}.\n\n${targetsTable(targets)}\n`);
    const out = opts.out ?? join(repoRoot(), 'test', 'bench', 'results', `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
    mkdirSync(join(out, '..'), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${out}`);
  } finally {
    await accountant?.close();
    await worker.stop().catch(() => undefined);
    if (echo) await stopChild(echo).catch(() => undefined);
    await stack.stop();
  }
  if (profileDir) {
    const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
    if (files.length === 0) throw new Error(`no .cpuprofile in ${profileDir}: the keys service did not exit cleanly`);
    // The profile starts when the service process starts (a few ms after spawn): cut it to the measured load.
    const base = stack.keysSpawnedAt ?? 0;
    const window = loadWindows.length > 0 && base > 0 ? { fromMs: loadWindows[0].from - base, toMs: loadWindows[loadWindows.length - 1].to - base } : undefined;
    const summary = summarizeProfile(JSON.parse(readFileSync(join(profileDir, files[0]), 'utf8')) as CpuProfile, 30, window);
    const text = `keys service CPU profile (${join(profileDir, files[0])}), measured window only:\n\n${profileMarkdown(summary)}\n`;
    writeFileSync(join(profileDir, 'summary.md'), text);
    process.stdout.write(`\n${text}`);
  }
}

export function runBench(argv: readonly string[]): void {
  main(argv).then(() => process.exit(0), (err: unknown) => {
    process.stderr.write(`${err instanceof BenchUsageError ? err.message : `bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`}\n`);
    process.exit(err instanceof BenchUsageError ? 2 : 1);
  });
}
