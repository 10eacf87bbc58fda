/**
 * The chaos scenarios (docs/reliability.md): each injects one fault into a running stack while a mixed load
 * runs, heals it, and lets the history checker judge. `runScenario` owns the common frame:
 * seed keys → load with the fault injected after `injectAfterMs` → wait for service to come back →
 * checker → key projection rebuilt from the log equals the live one → keys service restarted.
 */
import { renameSync } from 'node:fs';
import { hostname } from 'node:os';
import { ROTATION_LEASE_MS, type ChaosStack } from './chaos-stack';
import { checkHistory, checkProjectionRebuild, type CheckReport } from './history-checker';
import { ChaosClient, History, runLoad, seedKeys } from './history';
import { claimHolder, type ClaimHolder, DAY_MS, executionsOf, scheduledProjected, scheduledRotations, setClockOffset, trackedForRotation } from './rotation-lease';

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
  readonly stack: 'software' | 'pkcs11' | 'scale-out';
  /** Pause of each load worker between operations (default 20 ms): longer for long faults, so the load spans them. */
  readonly loadPauseMs?: number;
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
  const client = await ChaosClient.connect(stack.natsUrls, stack.clientAuth);
  const history = new History(`${scenario.name}-${Date.now().toString(36)}`);
  const ctx: ScenarioContext = { stack, client, history, notes: [], failures: [] };
  try {
    await seedKeys(client, history, 4);
    let healedAt = 0;
    const load = runLoad(client, history, { ...opts, ...(scenario.loadPauseMs !== undefined ? { pauseMs: scenario.loadPauseMs } : {}), done: () => healedAt > 0 && Date.now() - healedAt > opts.tailMs });
    await sleep(opts.injectAfterMs);
    await scenario.inject(ctx);
    healedAt = Date.now();
    await load;
    const recoveryMs = await waitServing(client, history.keys[0], 30_000);
    if (recoveryMs < 0) ctx.failures.push('the keys service did not serve GenerateDataKey within 30 s after the fault was healed');
    const report = await checkHistory(stack, client, history);
    const keys = stack.replicasOf('keys');
    for (const k of keys) await k.stop();
    const rebuild = await checkProjectionRebuild(stack);
    if (rebuild) ctx.failures.push(rebuild);
    for (const k of keys) await k.respawn();
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

async function waitUntil(timeoutMs: number, probe: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await sleep(100);
  }
  return false;
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
        const codes = codesBetween(ctx.history, from, Date.now());
        ctx.notes.push(`skew ${skew}: ${JSON.stringify(codes)}`);
        // The skew must be felt: signed requests refused as TIMESTAMP_SKEW (else the clock was not shifted).
        if (!Object.keys(codes).some((k) => k.includes('EKM_UNAUTHENTICATED'))) ctx.failures.push(`skew ${skew}: no request was refused EKM_UNAUTHENTICATED; was the clock shifted?`);
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
  'kill-policy': {
    name: 'kill-policy', stack: 'software', injected: 'SIGKILL of the policy service under load (keys EKM_AUTHZ=policy); restarted 2 s later',
    async inject(ctx) {
      const policy = ctx.stack.policy;
      if (!policy) throw new Error('kill-policy needs the policy service in the stack');
      const from = Date.now();
      await policy.kill();
      await sleep(2000);
      await policy.respawn();
      during(ctx, from);
    },
  },
  'scale-out': {
    name: 'scale-out', stack: 'scale-out', loadPauseMs: 150,
    injected: 'scale-out stack (3-node JetStream cluster, streams R3, 2 replicas of every service): SIGKILL of the NATS node leading EKM_KEYS_EVENTS and of one replica of keys, policy, audit and rotation at once; 8 s later all restarted',
    async inject(ctx) {
      await scaleOutLoss(ctx);
    },
  },
  'rotation-paused-past-lease': {
    name: 'rotation-paused-past-lease', stack: 'software', loadPauseMs: 150,
    injected: `the rotation replica holding claimed rows SIGSTOPped for 2x its lease (${ROTATION_LEASE_MS} ms), the other replica takes over, then SIGCONT; scheduled rotations continue`,
    async inject(ctx) {
      await schedulerLosesHolder(ctx, 'pause');
    },
  },
  'kill-rotation': {
    name: 'kill-rotation', stack: 'software', loadPauseMs: 150,
    injected: 'SIGKILL of the rotation replica holding claimed rows; the other replica serves its slots; restarted; scheduled rotations continue',
    async inject(ctx) {
      await schedulerLosesHolder(ctx, 'kill');
    },
  },
  'kill-audit': {
    name: 'kill-audit', stack: 'software', injected: 'SIGKILL of the audit service under load; restarted 1 s later (the trail must still hold every event)',
    async inject(ctx) {
      const audit = ctx.stack.audit;
      if (!audit) throw new Error('kill-audit needs the audit service in the stack');
      const from = Date.now();
      await audit.kill();
      await sleep(1000);
      await audit.respawn();
      during(ctx, from);
    },
  },
};

/**
 * 8 keys with a 1-day rotation period (not used by the load). The scheduler clock is moved a day on, so
 * every key has one due slot; both replicas' NATS links get 400 ms latency so a claim transaction stays
 * open for about a second (the heartbeat keeps its lease: Postgres is direct). The replica seen holding
 * claimed rows is SIGSTOPped for twice the lease: Postgres ends its session, the other replica claims
 * the rows and sends the same slot request ids. Then SIGCONT: the resumed replica's commit must fail
 * (fenced), and a second day's slots must be served too. Checked from the keys service's log: each key
 * has exactly one SCHEDULED rotation per slot, no request id rotated twice.
 * `kill` instead SIGKILLs the holder (its session ends at once) and starts it again after the takeover.
 */
async function schedulerLosesHolder(ctx: ScenarioContext, mode: 'pause' | 'kill'): Promise<void> {
  const { stack, client, notes, failures } = ctx;
  if (stack.rotation.length < 2) throw new Error('the rotation scenarios need 2 rotation replicas');
  // Back to the database's clock: a key's first slot is one period after now on the keys service's
  // clock, so an offset left by an earlier scenario (days) would make the new keys due at once.
  await setClockOffset(stack, 0);
  const keyIds: string[] = [];
  for (let i = 0; i < 8; i++) {
    const created = await client.call<{ keyId: string }>('keys', 'create-key', { tenant: 'chaos', description: `scheduled ${ctx.history.run}` }, undefined, 10_000);
    if (created.outcome !== 'ok' || !created.data) throw new Error(`could not create a scheduled key: ${created.code}`);
    const enabled = await client.call('keys', 'enable-key-rotation', { keyId: created.data.keyId, periodDays: 1 }, undefined, 10_000);
    if (enabled.outcome !== 'ok') throw new Error(`could not enable rotation: ${enabled.code}`);
    keyIds.push(created.data.keyId);
  }
  if (!(await waitUntil(20_000, async () => (await trackedForRotation(stack, keyIds)) === keyIds.length))) throw new Error('schedule projection did not track the keys within 20 s');
  const base = 0;
  for (const p of stack.rotationProxies) p.setMode({ kind: 'delay', ms: 400 });
  await setClockOffset(stack, base + DAY_MS + 3_600_000);
  let holder = null;
  const seekUntil = Date.now() + 15_000;
  while (!holder && Date.now() < seekUntil) {
    holder = await claimHolder(stack);
    if (!holder) await sleep(20);
  }
  if (!holder) {
    for (const p of stack.rotationProxies) p.heal();
    failures.push('no rotation replica was seen holding claimed rows within 15 s of the slots falling due');
    return;
  }
  const paused = holder.replica;
  const pausedId = `${hostname()}:${paused.pid}`;
  const abandonedBefore = countAbandoned(paused.log());
  if (mode === 'kill') await paused.kill();
  else process.kill(paused.pid, 'SIGSTOP');
  const pausedAt = Date.now();
  for (const p of stack.rotationProxies) p.heal();
  notes.push(`${mode === 'kill' ? 'killed' : 'paused'} replica pid ${paused.pid} holding ${holder.slots.length} claimed slot(s) (xid ${holder.xid})`);
  if (mode === 'kill') {
    const served = await waitUntil(20_000, async () => [...(await scheduledRotations(stack, keyIds)).perKey.values()].every((n) => n >= 1));
    notes.push(served ? `every due slot served by the other replica ${Date.now() - pausedAt} ms after the kill` : 'due slots NOT all served after the kill');
    if (!served) failures.push('the other replica did not serve the killed replica\'s claimed slots within 20 s');
    await paused.respawn();
  } else {
    await resumeAfterLease(ctx, holder, keyIds, pausedId, abandonedBefore, pausedAt);
  }
  await secondSlot(ctx, keyIds, base);
}

async function resumeAfterLease(ctx: ScenarioContext, holder: ClaimHolder, keyIds: string[], pausedId: string, abandonedBefore: number, pausedAt: number): Promise<void> {
  const { stack, notes, failures } = ctx;
  const paused = holder.replica;
  try {
    await sleep(2 * ROTATION_LEASE_MS);
    const served = await waitUntil(20_000, async () => [...(await scheduledRotations(stack, keyIds)).perKey.values()].every((n) => n >= 1));
    notes.push(served ? `every due slot served while the replica was still stopped (seen ${Date.now() - pausedAt} ms after the pause)` : 'due slots NOT all served while the replica was paused');
    if (!served) failures.push('the other replica did not serve the paused replica\'s claimed slots within 20 s');
  } finally {
    process.kill(paused.pid, 'SIGCONT');
  }
  notes.push(`resumed after ${Date.now() - pausedAt} ms (lease ${ROTATION_LEASE_MS} ms)`);
  const fenced = await waitUntil(10_000, async () => countAbandoned(paused.log()) > abandonedBefore);
  notes.push(fenced ? 'resumed replica: its claim transaction could not commit ("scheduler batch abandoned"), fenced' : 'resumed replica logged no abandoned batch');
  if (!fenced) failures.push('the resumed replica did not report its stale claim transaction as abandoned within 10 s');
  const ledger = await executionsOf(stack, holder.slots);
  const byPaused = [...ledger.values()].filter((r) => r === pausedId).length;
  notes.push(`ledger of the paused replica's ${holder.slots.length} slot(s): ${ledger.size} recorded, ${byPaused} by the paused replica`);
  if (byPaused > 0) failures.push(`the resumed replica recorded ${byPaused} slot(s) it had lost to the other replica (stale lease acted on)`);
}

async function secondSlot(ctx: ScenarioContext, keyIds: string[], base: number): Promise<void> {
  const { stack, notes, failures } = ctx;
  // A second slot per key, after the pause: the scheduler still works (either replica may serve it).
  // The clock jumps a day in seconds, so first let the schedule projection apply every first-slot
  // KeyRotated (the paused replica held some of those events unacked): applied after the next slot
  // fell due, a late one advances the schedule past that slot too (see docs/reliability.md).
  const projected = await waitUntil(40_000, async () => (await scheduledProjected(stack, keyIds)) === keyIds.length);
  notes.push(projected ? 'schedule projection applied every first-slot rotation' : 'schedule projection did NOT apply every first-slot rotation within 40 s');
  await setClockOffset(stack, base + 2 * DAY_MS + 3_600_000);
  const second = await waitUntil(20_000, async () => [...(await scheduledRotations(stack, keyIds)).perKey.values()].every((n) => n >= 2));
  if (!second) failures.push('the second day\'s scheduled rotations were not all served within 20 s');
  await sleep(2000); // a late duplicate (the resumed replica, a redelivery) would show by now
  const { perKey, repeated } = await scheduledRotations(stack, keyIds);
  const counts = [...perKey.values()];
  notes.push(`scheduled rotations per key after 2 slots: [${counts.join(',')}]`);
  if (!counts.every((n) => n === 2)) failures.push(`scheduled rotations per key are [${counts.join(',')}] (want exactly 2 each: one per slot)`);
  if (repeated.length > 0) failures.push(`slot request ids rotated more than once: ${repeated.join(', ')}`);
}

const countAbandoned = (log: string): number => log.split('scheduler batch abandoned').length - 1;

/**
 * Under the load: SIGKILL of the NATS node that leads the keys event stream (a stream leader election,
 * every client on that node reconnects to another) and of the first replica of every service, all at
 * once. For 8 s the survivors must carry the load (ok replies after a 3 s grace), the relays and
 * consumers must keep the event streams and the audit trail going (the checker's audit checks); then
 * the node rejoins and the replicas come back.
 */
async function scaleOutLoss(ctx: ScenarioContext): Promise<void> {
  const { stack, notes, failures } = ctx;
  const cluster = stack.cluster;
  if (!cluster) throw new Error('scale-out needs the scale-out stack');
  const before = await cluster.streamState('EKM_KEYS_EVENTS');
  notes.push(`EKM_KEYS_EVENTS before: ${before.replicas} replicas, ${before.current} current, leader ${before.leader}`);
  if (before.replicas !== 3) failures.push(`EKM_KEYS_EVENTS has ${before.replicas} replica(s), want 3 (EKM_JS_REPLICAS)`);
  const leader = before.leader ?? cluster.nodes[0]!.name;
  const victims = [stack.keys, stack.audit, stack.policy, stack.rotation[0]].filter((v): v is NonNullable<typeof v> => v !== undefined);
  const from = Date.now();
  await Promise.all([cluster.killNode(leader), ...victims.map((v) => v.kill())]);
  notes.push(`killed NATS node ${leader} (leader of EKM_KEYS_EVENTS) and ${victims.map((v) => `${v.opts.service} pid ${v.pid}`).join(', ')}`);
  await sleep(8000);
  const outage = codesBetween(ctx.history, from + 3000, Date.now());
  notes.push(`3..8 s after the kills: ${JSON.stringify(outage)}`);
  if (!(outage.ok > 0)) failures.push('no operation succeeded 3-8 s after one NATS node and one replica of each service were killed');
  const after = await cluster.streamState('EKM_KEYS_EVENTS').then((x) => `leader ${x.leader}, ${x.current} of ${x.replicas} current`, (err: unknown) => `unknown (${(err as Error).message})`);
  notes.push(`EKM_KEYS_EVENTS during the outage: ${after}`);
  const back = Date.now();
  await Promise.all([cluster.restartNode(leader), ...victims.map((v) => v.respawn())]);
  notes.push(`node and replicas back in ${Date.now() - back} ms`);
  during(ctx, from);
}
