/**
 * `npm run bench:ratelimit`: does a quiet principal keep its latency while a noisy one floods the keys
 * service? Two private stacks (own Postgres, nats-server, keys service from dist/, EKM_AUTH=disabled so
 * the Ekm-Principal header names the caller): one with the per-principal limit off
 * (EKM_RATE_LIMIT_RPS=0), one with it on. On each, the quiet principal sends GenerateDataKey at a fixed
 * pace (open loop: a slow reply does not delay the next request), alone and then beside the noisy
 * principal (a separate load-generator process keeping many requests in flight). Prints a markdown table
 * and writes JSON to test/bench/results/rate-limit-<time>.json. See docs/rate-limits.md.
 *
 * Env: BENCH_DURATION_MS (each measurement, default 8000), BENCH_QUIET_RPS (default 50),
 * BENCH_NOISY_CONCURRENCY (default 32), BENCH_LIMIT_RPS / BENCH_LIMIT_BURST (the "on" stack, default 100 / 200:
 * well under one keys service's capacity on the 2-core machine, as docs/rate-limits.md advises).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { LoadWorker } from './bench.main';
import { prepareFixture } from './bench-fixture';
import { repoRoot, startPrivateStack } from './bench-stack';
import { summarize, type LatencySummary } from './latency-stats';
import { requestMaker, type Fixture } from './load-scenarios';
import type { RunResult } from './load-worker';
import { cpuSeconds } from './proc-stats';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 8000);
const QUIET_RPS = Number(process.env.BENCH_QUIET_RPS ?? 50);
const NOISY_CONCURRENCY = Number(process.env.BENCH_NOISY_CONCURRENCY ?? 32);
const LIMIT_RPS = Number(process.env.BENCH_LIMIT_RPS ?? 100);
const LIMIT_BURST = Number(process.env.BENCH_LIMIT_BURST ?? 2 * LIMIT_RPS);
const WARMUP_MS = 1000;
const log = (s: string): void => { process.stderr.write(`[bench:ratelimit] ${s}\n`); };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface QuietResult { readonly sent: number; readonly ok: number; readonly errorCodes: Record<string, number>; readonly latency: LatencySummary }
interface NoisyResult {
  /** CPU of the keys service process per request it answered (quiet + noisy, admitted + refused) during the run. */
  readonly keysCpuUsPerRequest: number | null;
  readonly requestsPerSecond: number; readonly admittedPerSecond: number; readonly refusedPerSecond: number; readonly errorCodes: Record<string, number>; readonly latency: LatencySummary }
interface Row { readonly limit: string; readonly noisy: boolean; readonly quiet: QuietResult; readonly noisyLoad: NoisyResult | null }

/** The quiet principal: one GenerateDataKey every 1/QUIET_RPS s for `durationMs`, each timed from its own send. */
async function quietRun(nc: NatsConnection, fixture: Fixture, durationMs: number): Promise<QuietResult> {
  const make = requestMaker('generate-data-key', fixture);
  const n = Math.floor((durationMs / 1000) * QUIET_RPS);
  const latencies = new Float64Array(n);
  const errorCodes: Record<string, number> = {};
  let ok = 0;
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const wait = start + (i * 1000) / QUIET_RPS - performance.now();
    if (wait > 0) await sleep(wait);
    const req = make();
    const h = headers();
    h.set('Ekm-Principal', 'p-quiet');
    const t0 = performance.now();
    pending.push(nc.request(`ekm.v1.keys.${req.op}`, req.body, { timeout: 10_000, headers: h }).then((m) => {
      latencies[i] = performance.now() - t0;
      const r = m.json<{ ok: boolean; error?: { code: string } }>();
      if (r.ok) ok++;
      else errorCodes[r.error?.code ?? 'UNKNOWN'] = (errorCodes[r.error?.code ?? 'UNKNOWN'] ?? 0) + 1;
    }, (err: unknown) => {
      latencies[i] = performance.now() - t0;
      const code = (err as { code?: string }).code ?? 'REQUEST_FAILED';
      errorCodes[code] = (errorCodes[code] ?? 0) + 1;
    }));
  }
  await Promise.all(pending);
  return { sent: n, ok, errorCodes, latency: summarize(latencies) };
}

const noisyOf = (r: RunResult, keysCpuS: number | null, quiet: QuietResult): NoisyResult => {
  const refused = r.errorCodes.EKM_RATE_LIMITED ?? 0;
  return {
    keysCpuUsPerRequest: keysCpuS === null ? null : Math.round((keysCpuS / (r.requests + quiet.sent)) * 1e6),
    requestsPerSecond: r.requestsPerSecond, admittedPerSecond: Math.round((r.requests - r.errors) / r.seconds),
    refusedPerSecond: Math.round(refused / r.seconds), errorCodes: r.errorCodes, latency: r.latency,
  };
};

async function measureStack(label: string, env: Record<string, string>): Promise<Row[]> {
  log(`${label}: starting a private stack`);
  const stack = await startPrivateStack({ auth: false, env });
  const worker = LoadWorker.start();
  const nc = await connect({ servers: stack.natsUrl, name: 'ekm-bench-quiet' });
  try {
    const fixture = await prepareFixture(stack.natsUrl, { principal: 'bench-setup' });
    worker.send({ type: 'fixture', fixture });
    await quietRun(nc, fixture, 1000); // warm-up: JIT, KEK cache, pool
    log(`${label}: quiet principal alone`);
    const alone = await quietRun(nc, fixture, DURATION_MS);
    log(`${label}: quiet principal beside the noisy one (${NOISY_CONCURRENCY} in flight)`);
    const noisyRun = worker.ask({ type: 'run', natsUrl: stack.natsUrl, target: { kind: 'ekm' }, caller: { principal: 'p-noisy' }, op: 'generate-data-key', concurrency: NOISY_CONCURRENCY, warmupMs: WARMUP_MS, durationMs: DURATION_MS + 500 }, 'run');
    await sleep(WARMUP_MS);
    const keysPid = stack.pids.keys;
    const cpu0 = keysPid ? cpuSeconds(keysPid) : null;
    const beside = await quietRun(nc, fixture, DURATION_MS);
    const noisyResult = await noisyRun;
    const cpu1 = keysPid ? cpuSeconds(keysPid) : null;
    const noisy = noisyOf(noisyResult, cpu0 === null || cpu1 === null ? null : cpu1 - cpu0, beside);
    return [{ limit: label, noisy: false, quiet: alone, noisyLoad: null }, { limit: label, noisy: true, quiet: beside, noisyLoad: noisy }];
  } finally {
    await nc.close().catch(() => undefined);
    await worker.stop().catch(() => undefined);
    await stack.stop();
  }
}

function table(rows: readonly Row[]): string {
  const codes = (c: Record<string, number>): string => Object.entries(c).map(([k, v]) => `${k} ${v}`).join(', ') || '–';
  const lines = [
    '| per-principal limit | noisy principal | quiet p50 ms | quiet p99 ms | quiet max ms | quiet ok / sent | quiet errors | noisy sent/s | noisy admitted/s | noisy refused/s | keys CPU µs/request |',
    '|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const q = r.quiet;
    const n = r.noisyLoad;
    lines.push(`| ${r.limit} | ${r.noisy ? `${NOISY_CONCURRENCY} in flight` : 'idle'} | ${q.latency.p50Ms} | ${q.latency.p99Ms} | ${q.latency.maxMs} | ${q.ok} / ${q.sent} | ${codes(q.errorCodes)} | ${n?.requestsPerSecond ?? '–'} | ${n?.admittedPerSecond ?? '–'} | ${n?.refusedPerSecond ?? '–'} | ${n?.keysCpuUsPerRequest ?? '–'} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);
  const rows = [
    ...await measureStack('off', { EKM_RATE_LIMIT_RPS: '0' }),
    ...await measureStack(`${LIMIT_RPS}/s, burst ${LIMIT_BURST}`, { EKM_RATE_LIMIT_RPS: String(LIMIT_RPS), EKM_RATE_LIMIT_BURST: String(LIMIT_BURST) }),
  ];
  const result = {
    startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(),
    machine: { hostname: hostname(), cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, loadavgBefore: loadBefore, loadavgAfter: loadavg().map((x) => Math.round(x * 100) / 100) },
    settings: { durationMs: DURATION_MS, quietRps: QUIET_RPS, noisyConcurrency: NOISY_CONCURRENCY, limitRps: LIMIT_RPS, limitBurst: LIMIT_BURST, op: 'generate-data-key', auth: 'disabled (Ekm-Principal header)' },
    rows,
  };
  process.stdout.write(`\n${table(rows)}\n\nQuiet principal: ${QUIET_RPS} GenerateDataKey/s, open loop, ${DURATION_MS} ms per row. Load average before/after: ${loadBefore.join(' ')} / ${result.machine.loadavgAfter.join(' ')}.\n`);
  const out = join(repoRoot(), 'test', 'bench', 'results', `rate-limit-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${out}`);
}

if (require.main === module) {
  main().then(() => process.exit(0), (err: unknown) => {
    process.stderr.write(`bench:ratelimit failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  });
}
