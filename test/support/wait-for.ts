/**
 * Condition waits for tests, with deadlines that scale with how busy the machine is. A fixed sleep
 * that "should be long enough" is what made the rotation-replicas catch-up and the nats-cluster
 * leader-loss specs fail on a clean clone at load average 6 on 2 cores: wait for the condition instead,
 * and give the deadline room in proportion to the load.
 *
 * The factor is EKM_TEST_TIME_SCALE when set (a number >= 1, e.g. 3 on a slow CI runner); otherwise it
 * is derived from the 1-minute load average per core, read at each call (load rises while a suite runs),
 * clamped to [1, MAX_DERIVED_SCALE]. jest.config.js scales the default test timeout the same way.
 */
import { cpus, loadavg } from 'node:os';

const MAX_DERIVED_SCALE = 4;

/** The current time-scale factor (>= 1). */
export function timeScale(): number {
  const set = Number(process.env.EKM_TEST_TIME_SCALE);
  if (Number.isFinite(set) && set >= 1) return set;
  const perCore = loadavg()[0]! / Math.max(1, cpus().length);
  return Math.min(MAX_DERIVED_SCALE, Math.max(1, perCore));
}

/** `ms` scaled by the current factor: use for deadlines and jest timeouts, never as a wait. */
export function scaled(ms: number): number {
  return Math.ceil(ms * timeScale());
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface WaitForOptions {
  /** Unscaled deadline; the wait gives up after scaled(timeoutMs). Default 20 s. */
  readonly timeoutMs?: number;
  /** Poll interval (not scaled). Default 50 ms. */
  readonly intervalMs?: number;
  /** What is awaited, for the timeout message. */
  readonly what?: string;
  /** Treat a throwing probe as "not yet" (e.g. a cluster electing a leader refuses publishes). Default false: it fails the wait. */
  readonly retryOnError?: boolean;
}

/**
 * Polls `probe` until it returns something other than `false`, `null` or `undefined` and returns that
 * value. With `retryOnError` a probe that throws counts as "not yet" and the last error is in the
 * timeout message; without it the error fails the wait at once.
 */
export async function waitFor<T>(probe: () => Promise<T | false | null | undefined> | T | false | null | undefined, opts: WaitForOptions = {}): Promise<T> {
  const timeoutMs = scaled(opts.timeoutMs ?? 20_000);
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== false && v !== null && v !== undefined) return v;
    } catch (err) {
      if (!opts.retryOnError) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms (scale ${timeScale().toFixed(2)}) waiting for ${opts.what ?? 'a condition'}${cause}`);
    }
    await sleep(intervalMs);
  }
}

/**
 * A quiet period for a NEGATIVE assertion ("no late duplicate arrives"): nothing to wait for, so the
 * window is scaled with the load instead (a slow machine delivers late things later).
 */
export function quietPeriod(ms: number): Promise<void> {
  return sleep(scaled(ms));
}
