/** Rows, ratios to the echo baseline, the performance targets, and the markdown table (pure). */
import { itemsPerRequest, type BenchOp } from './load-scenarios';
import type { RequestAccounting } from './accounting';
import type { AesResult, RunResult } from './load-worker';

export interface CpuPerRequest {
  /** Microseconds of CPU per request (user+system), per process; null when the pid is unknown. */
  readonly keysUs: number | null;
  readonly natsUs: number | null;
  readonly postgresUs: number | null;
  readonly callerUs: number;
}

export interface BenchRow {
  readonly op: BenchOp;
  readonly concurrency: number;
  /** A named state of the stack the row ran against (e.g. a seeded trail); absent: as the fixture left it. */
  readonly scenario?: string;
  readonly ekm: RunResult;
  readonly echo: RunResult | null;
  readonly cpu: CpuPerRequest;
  /** Per request, per process and per resource: the EKM run and the echo run after it. */
  readonly accounting?: { readonly ekm: RequestAccounting; readonly echo: RequestAccounting | null };
  /** EKM ÷ echo at the same concurrency and payload sizes. */
  readonly ratio: { readonly throughput: number | null; readonly p50: number | null; readonly p99: number | null };
}

export type TargetStatus = 'met' | 'not met' | 'not measured' | 'measured by bench:scale';
export interface TargetResult { readonly target: string; readonly measured: string; readonly status: TargetStatus }

const r2 = (x: number): number => Math.round(x * 100) / 100;
const div = (a: number, b: number): number | null => (b > 0 ? r2(a / b) : null);

export function ratiosOf(ekm: RunResult, echo: RunResult | null): BenchRow['ratio'] {
  if (!echo) return { throughput: null, p50: null, p99: null };
  return { throughput: div(ekm.requestsPerSecond, echo.requestsPerSecond), p50: div(ekm.latency.p50Ms, echo.latency.p50Ms), p99: div(ekm.latency.p99Ms, echo.latency.p99Ms) };
}

const find = (rows: readonly BenchRow[], op: BenchOp, c: number): BenchRow | undefined => rows.find((r) => r.op === op && r.concurrency === c);

/** The issue-8 targets this harness can check, against this run's rows. */
export function evaluateTargets(rows: readonly BenchRow[], keysStartupMs: number | undefined): TargetResult[] {
  const out: TargetResult[] = [];
  const check = (target: string, row: BenchRow | undefined, measured: (r: BenchRow) => number | null, limit: number, atMost: boolean, show: (r: BenchRow, x: number) => string): void => {
    const x = row ? measured(row) : null;
    if (!row || x === null) { out.push({ target, measured: 'not in this run', status: 'not measured' }); return; }
    out.push({ target, measured: show(row, x), status: (atMost ? x <= limit : x >= limit) ? 'met' : 'not met' });
  };
  for (const op of ['generate-data-key', 'decrypt'] as const) {
    check(`${op} throughput at 64 in flight ≥ 0.5× echo`, find(rows, op, 64), (r) => r.ratio.throughput, 0.5, false,
      (r, x) => `${r.ekm.requestsPerSecond}/s = ${x}× echo (${r.echo?.requestsPerSecond}/s)`);
    check(`${op} sequential p50 ≤ 2.5× echo p50`, find(rows, op, 1), (r) => r.ratio.p50, 2.5, true,
      (r, x) => `${r.ekm.latency.p50Ms} ms = ${x}× echo (${r.echo?.latency.p50Ms} ms)`);
    check(`${op} p99 at 64 in flight ≤ 2× echo p99`, find(rows, op, 64), (r) => r.ratio.p99, 2, true,
      (r, x) => `${r.ekm.latency.p99Ms} ms = ${x}× echo (${r.echo?.latency.p99Ms} ms)`);
  }
  out.push(keysStartupMs === undefined
    ? { target: 'service start-up ≤ 10 s', measured: 'not measured (--stack)', status: 'not measured' }
    : { target: 'service start-up ≤ 10 s', measured: `${(keysStartupMs / 1000).toFixed(1)} s (empty database, migrations included)`, status: keysStartupMs <= 10_000 ? 'met' : 'not met' });
  for (const t of ['with 100,000 keys: within 10 % of the 100-key figures', 'projection rebuild of 1,000,000 events ≤ 60 s', 'audit verify ≥ 100k entries/s']) {
    out.push({ target: t, measured: 'see npm run bench:scale (reference: test/bench/results/reference-scale.json)', status: 'measured by bench:scale' });
  }
  return out;
}

const fmt = (x: number | null | undefined, digits = 2): string => (x === null || x === undefined ? '–' : x.toFixed(digits));
const us = (x: number | null): string => (x === null ? '–' : Math.round(x).toString());

export function markdownTable(rows: readonly BenchRow[]): string {
  const head = '| operation | in flight | req/s | items/s | p50 ms | p99 ms | p99.9 ms | echo req/s | × echo | echo p50 | × p50 | echo p99 | × p99 | keys CPU µs/req | PG CPU µs/req | NATS CPU µs/req | errors |';
  const sep = `|${'---|'.repeat(17)}`;
  const lines = rows.map((r) => {
    const e = r.ekm;
    const errs = e.errors === 0 ? '0' : `${e.errors} (${Object.entries(e.errorCodes).map(([c, n]) => `${c}:${n}`).join(', ')})`;
    return `| ${r.scenario ? `${r.op} [${r.scenario}]` : r.op} | ${r.concurrency} | ${e.requestsPerSecond} | ${e.requestsPerSecond * itemsPerRequest(r.op)} | ${fmt(e.latency.p50Ms)} | ${fmt(e.latency.p99Ms)} | ${fmt(e.latency.p999Ms)} | `
      + `${r.echo?.requestsPerSecond ?? '–'} | ${fmt(r.ratio.throughput)} | ${fmt(r.echo?.latency.p50Ms)} | ${fmt(r.ratio.p50)} | ${fmt(r.echo?.latency.p99Ms)} | ${fmt(r.ratio.p99)} | `
      + `${us(r.cpu.keysUs)} | ${us(r.cpu.postgresUs)} | ${us(r.cpu.natsUs)} | ${errs} |`;
  });
  return [head, sep, ...lines].join('\n');
}

export function targetsTable(targets: readonly TargetResult[]): string {
  return ['| target (issue 8) | measured | status |', '|---|---|---|', ...targets.map((t) => `| ${t.target} | ${t.measured} | ${t.status} |`)].join('\n');
}

export function aesLine(aes: AesResult | null): string {
  return aes ? `In-process AES-256-GCM (node:crypto, load-generator process): encrypt 32 B ${aes.encrypt32PerSecond}/s; DEK generate + wrap ${aes.dataKeyCorePerSecond}/s.` : '';
}

const n1 = (x: number | null | undefined): string => (x === null || x === undefined ? '–' : (Math.round(x * 10) / 10).toString());
const n2 = (x: number | null | undefined): string => (x === null || x === undefined ? '–' : (Math.round(x * 100) / 100).toString());

/**
 * The accounting table: one line per run (EKM, then its echo), a column per process (CPU µs per
 * request; `PG <role>` the Postgres backends of that role), then NATS messages at the server, JetStream
 * messages stored per stream, Postgres commits and WAL bytes, all per request.
 */
export function accountingTable(rows: readonly BenchRow[]): string {
  const withAcc = rows.filter((r) => r.accounting);
  if (withAcc.length === 0) return '(no accounting)';
  const names: string[] = [];
  for (const r of withAcc) for (const a of [r.accounting!.ekm, r.accounting!.echo]) for (const k of Object.keys(a?.cpuUs ?? {})) if (!names.includes(k)) names.push(k);
  const procs = names.filter((k) => !k.startsWith('PG '));
  const pgs = names.filter((k) => k.startsWith('PG '));
  const cols = [...procs, ...pgs];
  const head = `| operation | in flight | run | ${cols.map((c) => `${c} µs`).join(' | ')} | PG total µs | all CPU µs | NATS in | NATS out | JetStream stored (msgs, bytes) | PG commits | WAL bytes |`;
  const sep = `|${'---|'.repeat(3 + cols.length + 7)}`;
  const line = (r: BenchRow, run: string, a: RequestAccounting): string => {
    const js = a.jetstream === null ? '–' : Object.entries(a.jetstream).map(([s, v]) => `${s} ${n2(v.msgs)} (${v.bytes} B)`).join(', ') || '0';
    return `| ${r.scenario ? `${r.op} [${r.scenario}]` : r.op} | ${r.concurrency} | ${run} | ${cols.map((c) => n1(a.cpuUs[c])).join(' | ')} | ${n1(a.postgresTotalUs)} | ${n1(a.allCpuUs)} | `
      + `${n2(a.natsMsgsIn)} | ${n2(a.natsMsgsOut)} | ${js} | ${n2(a.pgCommits)} | ${a.walBytes ?? '–'} |`;
  };
  const lines: string[] = [];
  for (const r of withAcc) {
    lines.push(line(r, 'ekm', r.accounting!.ekm));
    if (r.accounting!.echo) lines.push(line(r, 'echo', r.accounting!.echo));
  }
  return [head, sep, ...lines].join('\n');
}
