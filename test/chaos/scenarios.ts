/**
 * The chaos scenarios of issue 9: each injects one fault into a running stack while a mixed load
 * runs, heals it, and lets the history checker judge. `runScenario` owns the common frame:
 * seed keys → load with the fault injected after `injectAfterMs` → wait for service to come back →
 * checker → key projection rebuilt from the log equals the live one → keys service restarted.
 */
import { renameSync } from 'node:fs';
import type { ChaosStack } from './chaos-stack';
import { checkHistory, checkProjectionRebuild, type CheckReport } from './history-checker';
import { ChaosClient, History, runLoad, seedKeys } from './history';

export interface ScenarioContext {
  readonly stack: ChaosStack;
  readonly client: ChaosClient;
  readonly history: History;
  /** Notes for the report (what was observed while the fault was on). */
  readonly notes: string[];
  /** Failures the scenario itself detected (beyond the checker's). */
  readonly failures: string[];
}

export interface Scenario {
  readonly name: string;
  readonly injected: string;
  /** Which stack it needs: most share the software-root stack; the HSM one needs SoftHSM. */
  readonly stack: 'software' | 'pkcs11';
  inject(ctx: ScenarioContext): Promise<void>;
}

export interface ScenarioResult {
  readonly name: string;
  readonly injected: string;
  readonly passed: boolean;
  readonly failures: string[];
  readonly notes: string[];
  readonly outcomes: Record<string, number>;
  readonly report: CheckReport;
  readonly recoveryMs: number;
  readonly seconds: number;
}

export interface RunOptions { readonly ops: number; readonly concurrency: number; readonly maxMs: number; readonly injectAfterMs: number; readonly tailMs: number }

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runScenario(stack: ChaosStack, scenario: Scenario, opts: RunOptions): Promise<ScenarioResult> {
  const t0 = Date.now();
  const client = await ChaosClient.connect(stack.natsUrl, stack.authSecret);
  const history = new History(`${scenario.name}-${Date.now().toString(36)}`);
  const ctx: ScenarioContext = { stack, client, history, notes: [], failures: [] };
  try {
    await seedKeys(client, history, 4);
    let healedAt = 0;
    const load = runLoad(client, history, { ...opts, done: () => healedAt > 0 && Date.now() - healedAt > opts.tailMs });
    await sleep(opts.injectAfterMs);
    await scenario.inject(ctx);
    healedAt = Date.now();
    await load;
    const recoveryMs = await waitServing(client, history.keys[0], 30_000);
    if (recoveryMs < 0) ctx.failures.push('the keys service did not serve GenerateDataKey within 30 s after the fault was healed');
    const report = await checkHistory(stack, client, history);
    await stack.keys.stop();
    const rebuild = await checkProjectionRebuild(stack);
    if (rebuild) ctx.failures.push(rebuild);
    await stack.keys.respawn();
    const failures = [...ctx.failures, ...report.failures];
    return {
      name: scenario.name, injected: scenario.injected, passed: failures.length === 0, failures, notes: ctx.notes,
      outcomes: history.summary(), report, recoveryMs, seconds: Math.round((Date.now() - t0) / 100) / 10,
    };
  } finally {
    await client.close();
  }
}

/** ms until a GenerateDataKey succeeds again (-1 after `timeoutMs`). */
export async function waitServing(client: ChaosClient, keyId: string, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const r = await client.call('keys', 'generate-data-key', { keyId }, undefined, 2000);
    if (r.outcome === 'ok') return Date.now() - t0;
    await sleep(100);
  }
  return -1;
}

/** Outcome codes seen in the history between two instants. */
function codesBetween(h: History, from: number, to: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of h.records) {
    if (r.startedAt < from || r.startedAt > to) continue;
    const k = r.outcome === 'ok' ? 'ok' : `${r.outcome}:${r.code}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

const during = (ctx: ScenarioContext, from: number): void => {
  ctx.notes.push(`during the fault: ${JSON.stringify(codesBetween(ctx.history, from, Date.now()))}`);
};

export const SCENARIOS: Record<string, Scenario> = {
  'kill-keys': {
    name: 'kill-keys', stack: 'software', injected: 'SIGKILL of the keys service under load; restarted 1 s later',
    async inject(ctx) {
      const from = Date.now();
      await ctx.stack.keys.kill();
      await sleep(1000);
      await ctx.stack.keys.respawn();
      during(ctx, from);
    },
  },
  'kill-nats': {
    name: 'kill-nats', stack: 'software', injected: 'SIGKILL of nats-server under load; restarted 2 s later (same port, same JetStream dir)',
    async inject(ctx) {
      const from = Date.now();
      await ctx.stack.killNats();
      await sleep(2000);
      await ctx.stack.restartNats();
      await sleep(2000);
      during(ctx, from);
    },
  },
  'kill-postgres': {
    name: 'kill-postgres', stack: 'software', injected: 'SIGKILL of the postmaster under load; restarted (crash recovery) 2 s later',
    async inject(ctx) {
      const from = Date.now();
      await ctx.stack.killPostgres();
      await sleep(2000);
      await ctx.stack.restartPostgres();
      await sleep(1000);
      during(ctx, from);
    },
  },
  'partition-keys-nats': {
    name: 'partition-keys-nats', stack: 'software', injected: '10 s black hole between the keys service and NATS (TCP proxy paused both ways)',
    async inject(ctx) {
      const from = Date.now();
      ctx.stack.natsProxy.blackhole();
      await sleep(10_000);
      ctx.stack.natsProxy.heal();
      during(ctx, from);
    },
  },
  'partition-keys-postgres': {
    name: 'partition-keys-postgres', stack: 'software', injected: '10 s black hole between the keys service and Postgres (TCP proxy paused both ways)',
    async inject(ctx) {
      const from = Date.now();
      ctx.stack.pgProxy.blackhole();
      await sleep(10_000);
      ctx.stack.pgProxy.heal();
      during(ctx, from);
    },
  },
  'postgres-read-only': {
    name: 'postgres-read-only', stack: 'software',
    injected: 'Postgres refuses writes for 5 s: ALTER DATABASE ekm SET default_transaction_read_only = on + terminate the keys backends; then undone',
    async inject(ctx) {
      const from = Date.now();
      const terminate = `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'ekm_keys'`;
      await ctx.stack.admin(async (c) => { await c.query('ALTER DATABASE ekm SET default_transaction_read_only = on'); await c.query(terminate); });
      await sleep(5000);
      // The admin session inherits the read-only default too: lift it for this session first.
      await ctx.stack.admin(async (c) => { await c.query('SET default_transaction_read_only = off'); await c.query('ALTER DATABASE ekm RESET default_transaction_read_only'); await c.query(terminate); });
      during(ctx, from);
    },
  },
  'skew-keys': {
    name: 'skew-keys', stack: 'software', injected: 'keys service restarted under libfaketime FAKETIME=+5m (wall clock 5 min ahead), then -5m, then back',
    async inject(ctx) {
      for (const skew of ['+5m', '-5m']) {
        await ctx.stack.keys.restart({ faketime: skew });
        const from = Date.now();
        await sleep(2000);
        ctx.notes.push(`skew ${skew}: ${JSON.stringify(codesBetween(ctx.history, from, Date.now()))}`);
      }
      await ctx.stack.keys.restart({ faketime: null });
    },
  },
  'hsm-gone': {
    name: 'hsm-gone', stack: 'pkcs11', injected: 'SoftHSM token directory moved away for 5 s (KEK cache off), then moved back',
    async inject(ctx) {
      const hsm = ctx.stack.hsm!;
      const from = Date.now();
      renameSync(hsm.tokenDir, `${hsm.tokenDir}.gone`);
      await sleep(5000);
      const gone = codesBetween(ctx.history, from, Date.now());
      renameSync(`${hsm.tokenDir}.gone`, hsm.tokenDir);
      const back = Date.now();
      ctx.notes.push(`token away: ${JSON.stringify(gone)}`);
      const ms = await waitServing(ctx.client, ctx.history.keys[0], 15_000);
      ctx.notes.push(`serving again ${ms} ms after the token came back`);
      if (ms < 0 || ms > 5000) ctx.failures.push(`not serving within 5 s of the token's return (${ms} ms)`);
      if (!Object.keys(gone).some((k) => k.includes('EKM_ROOT_KEY_UNAVAILABLE'))) ctx.notes.push('no EKM_ROOT_KEY_UNAVAILABLE seen while the token was away');
      void back;
    },
  },
};
