/** Command line of `npm run bench -- [options]` and the plan it selects (pure). */
import { BENCH_OPS, type BenchOp } from './load-scenarios';

export interface BenchOptions {
  readonly quick: boolean;
  /** Use the running stack of `npm run up` (path of its stack.json, or '' for .ekm/stack.json). */
  readonly stack?: string;
  /** Profile the keys service (--cpu-prof) under GenerateDataKey at 64 in flight; no other runs. */
  readonly profile: boolean;
  /** false with --no-auth: the private stack runs with EKM_AUTH=disabled. */
  readonly auth: boolean;
  readonly ops: readonly BenchOp[];
  readonly concurrency: readonly number[];
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly echoDurationMs: number;
  readonly aesMs: number;
  /** JSON output path; default test/bench/results/<timestamp>.json. */
  readonly out?: string;
  /**
   * Scale rows (private stack only, which then also runs the audit service): GenerateDataKey and Decrypt
   * at `concurrency` in flight on the trail as the run left it, then with `trailEntries` more entries
   * prefilled; then over 100 keys and over `spreadKeys` keys. 0 = that pair is not run.
   */
  readonly scale?: { readonly trailEntries: number; readonly spreadKeys: number; readonly concurrency: number };
}

export const USAGE = `usage: npm run bench -- [--quick] [--stack [stack.json]] [--profile] [--no-auth] [--ops a,b] [--concurrency 1,64] [--duration-ms n] [--out file.json]
  --quick        concurrency 1 and 64, short runs (< 2 minutes in all)
  --stack        measure the stack of \`npm run up\` (.ekm/stack.json) instead of a private one
  --profile      keys service under --cpu-prof, GenerateDataKey at 64 in flight; prints top self time
  --no-auth      private stack with EKM_AUTH=disabled (default: required, every request signed)
  --ops          ${BENCH_OPS.join(',')}
  --concurrency  requests in flight per run (default 1,16,64,256; quick 1,64)
  --scale        also run the audit service and add the scale rows: GenerateDataKey and Decrypt at 64 in flight
                 on the trail as the run left it and with --trail-entries more (default 1,000,000; quick 100,000),
                 over 100 keys and over --spread-keys keys (default 100,000; quick 10,000); private stack only
  --trail-entries, --spread-keys  sizes of the scale rows (implies --scale; 0 skips that pair)`;

export class BenchUsageError extends Error {}

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const args = [...argv];
  let quick = false;
  let profile = false;
  let auth = true;
  let stack: string | undefined;
  let ops: BenchOp[] | undefined;
  let concurrency: number[] | undefined;
  let durationMs: number | undefined;
  let out: string | undefined;
  let scale = false;
  let trailEntries: number | undefined;
  let spreadKeys: number | undefined;
  const value = (flag: string): string => {
    const v = args.shift();
    if (v === undefined || v.startsWith('--')) throw new BenchUsageError(`${flag} needs a value`);
    return v;
  };
  const numbers = (flag: string, s: string): number[] => s.split(',').map((x) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 1) throw new BenchUsageError(`${flag}: ${x} is not a positive integer`);
    return n;
  });
  while (args.length > 0) {
    const a = args.shift()!;
    switch (a) {
      case '--quick': quick = true; break;
      case '--profile': profile = true; break;
      case '--no-auth': auth = false; break;
      case '--stack': stack = args[0] !== undefined && !args[0].startsWith('--') ? args.shift()! : ''; break;
      case '--ops': ops = value(a).split(',').map((o) => {
        if (!(BENCH_OPS as readonly string[]).includes(o)) throw new BenchUsageError(`--ops: unknown operation ${o}; use ${BENCH_OPS.join(',')}`);
        return o as BenchOp;
      }); break;
      case '--concurrency': concurrency = numbers(a, value(a)); break;
      case '--duration-ms': durationMs = numbers(a, value(a))[0]; break;
      case '--out': out = value(a); break;
      case '--scale': scale = true; break;
      case '--trail-entries': case '--spread-keys': {
        const v = value(a);
        const n = v === '0' ? 0 : numbers(a, v)[0];
        if (a === '--trail-entries') trailEntries = n;
        else if (n !== 0 && n < 200) throw new BenchUsageError('--spread-keys must be 0 or at least 200 (the small set is 100 keys)');
        else spreadKeys = n;
        scale = true;
        break;
      }
      case '--help': case '-h': throw new BenchUsageError(USAGE);
      default: throw new BenchUsageError(`unknown option ${a}\n${USAGE}`);
    }
  }
  if (scale && stack !== undefined) throw new BenchUsageError('--scale seeds keys and prefills the trail of a private stack: drop --stack');
  if (scale && profile) throw new BenchUsageError('--scale and --profile do not go together');
  const scaleRows = scale ? { scale: { trailEntries: trailEntries ?? (quick ? 100_000 : 1_000_000), spreadKeys: spreadKeys ?? (quick ? 10_000 : 100_000), concurrency: 64 } } : {};
  if (profile) {
    return {
      quick, profile, auth, ops: ops ?? ['generate-data-key'], concurrency: concurrency ?? [64], warmupMs: 1000,
      durationMs: durationMs ?? (quick ? 8000 : 15000), echoDurationMs: 0, aesMs: 0, ...(stack !== undefined ? { stack } : {}), ...(out ? { out } : {}),
    };
  }
  return {
    quick, profile, auth,
    ops: ops ?? BENCH_OPS,
    concurrency: concurrency ?? (quick ? [1, 64] : [1, 16, 64, 256]),
    warmupMs: quick ? 400 : 1000,
    durationMs: durationMs ?? (quick ? 2200 : 6000),
    echoDurationMs: durationMs ?? (quick ? 1500 : 4000),
    aesMs: quick ? 1000 : 2000,
    ...(stack !== undefined ? { stack } : {}),
    ...(out ? { out } : {}),
    ...scaleRows,
  };
}
