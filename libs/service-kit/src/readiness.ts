/**
 * Readiness checks behind `/health/ready`: the service is ready only when every registered check
 * passes (Postgres answers, NATS connected, JetStream streams present without drift, ...).
 */

/** A check resolves to `true`/`undefined` when healthy; `false`, a reason string, or a throw mean not ready. */
export type ReadinessCheck = () => Promise<boolean | string | void> | boolean | string | void;

/** Outcome of one check. `reason` is short and safe to expose (no secrets, no connection strings). */
export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly reason?: string;
}

/** Outcome of all checks. */
export interface ReadinessReport {
  readonly ok: boolean;
  readonly checks: readonly CheckResult[];
}

const timeout = (ms: number): Promise<never> => new Promise((_, reject) => {
  const t = setTimeout(() => reject(new Error(`check timed out after ${ms} ms`)), ms);
  t.unref();
});

export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();
  private shuttingDown = false;

  constructor(private readonly timeoutMs = 2_000) {}

  /** Adds (or replaces) the check `name`. */
  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  /** From now on the service reports not ready (shutdown has begun: stop routing work here). */
  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  /** Runs every check concurrently, each bounded by the timeout. */
  async run(): Promise<ReadinessReport> {
    const results = await Promise.all([...this.checks].map(async ([name, check]): Promise<CheckResult> => {
      try {
        const r = await Promise.race([Promise.resolve(check()), timeout(this.timeoutMs)]);
        if (r === false) return { name, ok: false, reason: 'failed' };
        if (typeof r === 'string') return { name, ok: false, reason: r };
        return { name, ok: true };
      } catch (err) {
        return { name, ok: false, reason: err instanceof Error ? err.message : 'failed' };
      }
    }));
    if (this.shuttingDown) results.push({ name: 'shutdown', ok: false, reason: 'shutting down' });
    return { ok: results.every((r) => r.ok), checks: results };
  }
}
