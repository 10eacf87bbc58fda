/**
 * After a chaos run, with the stack healthy again: proves from Postgres (the system of record) that
 * - 0 acknowledged operations were lost: each acked CreateKey/RotateKey is in its key stream exactly
 *   once (by command id = request id); each acked GenerateDataKey decrypts now to the same plaintext;
 * - 0 duplicate or missing key versions: every key stream's KeyVersionAdded versions are 1..n;
 * - every acknowledged operation has an ALLOWED usage record, and (with the audit service) a trail
 *   entry with its request id, and the trail verifies;
 * - each unknown outcome is resolved as done once or not done (never twice);
 * - an operation answered with an error left no change (reported as `errorButDone`, see reliability.md).
 * `checkProjectionRebuild` rebuilds the key projection from the log and compares it with the live one.
 */
import { Pool } from 'pg';
import { rebuildProjection } from '@ekm/event-store';
import { RebuildKeyProjection } from '../../apps/keys/src/keys/adapters/postgres/key-projection.rebuild';
import type { ChaosStack } from './chaos-stack';
import type { ChaosClient, History, OpRecord } from './history';
import { USAGE_RECORDS } from '../support/usage-records';

export interface CheckReport {
  readonly failures: string[];
  readonly warnings: string[];
  readonly acked: number;
  readonly errors: number;
  readonly unknown: number;
  readonly unknownDone: number;
  readonly unknownNotDone: number;
  readonly decrypted: number;
  readonly keysChecked: number;
  readonly overDeadline: number;
  audit?: { entries: number; ok: boolean; reason: string };
}

interface Row { stream_id: string; event_type: string; data: Record<string, unknown>; command_id: string | null }

export async function checkHistory(stack: ChaosStack, client: ChaosClient, history: History, opts: { audit?: boolean } = {}): Promise<CheckReport> {
  const failures: string[] = [];
  const warnings: string[] = [];
  const prefix = `chaos-${history.run}-%`;
  const { keyRows, usage } = await stack.admin(async (c) => ({
    keyRows: (await c.query<Row>(`SELECT stream_id, event_type, data, metadata->>'correlationId' AS command_id FROM ekm_keys.events WHERE stream_id LIKE 'key-%' ORDER BY global_position`)).rows,
    usage: (await c.query<{ request_id: string; outcome: string }>(`SELECT data->>'requestId' AS request_id, data->>'outcome' AS outcome FROM ${USAGE_RECORDS} WHERE data->>'requestId' LIKE $1`, [prefix])).rows,
  }));

  // Effects per command id: how many KeyCreated / KeyVersionAdded each request id appended.
  const effects = new Map<string, number>();
  const versions = new Map<string, number[]>();
  for (const r of keyRows) {
    if (r.event_type === 'KeyVersionAdded') versions.set(r.stream_id, [...(versions.get(r.stream_id) ?? []), Number(r.data.version)]);
    const counts = (r.event_type === 'KeyCreated' || (r.event_type === 'KeyVersionAdded' && Number(r.data.version) > 1));
    if (counts && r.command_id) effects.set(r.command_id, (effects.get(r.command_id) ?? 0) + 1);
  }
  const usageBy = new Map<string, string[]>();
  for (const u of usage) usageBy.set(u.request_id, [...(usageBy.get(u.request_id) ?? []), u.outcome]);

  const doneCount = (rec: OpRecord): number => rec.op === 'create-key' || rec.op === 'rotate-key'
    ? effects.get(rec.requestId) ?? 0
    : (usageBy.get(rec.requestId) ?? []).filter((o) => o === 'ALLOWED').length;

  let unknownDone = 0;
  let unknownNotDone = 0;
  for (const rec of history.records) {
    const n = doneCount(rec);
    const allowed = (usageBy.get(rec.requestId) ?? []).filter((o) => o === 'ALLOWED').length;
    if (rec.overDeadline) failures.push(`${rec.op} ${rec.requestId}: answered after ${rec.endedAt - rec.startedAt} ms (deadline ${client.deadlineMs} ms)`);
    if (rec.outcome === 'ok') {
      if (n !== 1) failures.push(`acknowledged ${rec.op} ${rec.requestId} is in the log ${n} times (want exactly 1)`);
      if (allowed !== 1) failures.push(`acknowledged ${rec.op} ${rec.requestId} has ${allowed} ALLOWED usage records (want 1)`);
    } else if (rec.outcome === 'unknown') {
      if (n > 1) failures.push(`unknown ${rec.op} ${rec.requestId} happened ${n} times`);
      if (n === 1) unknownDone++;
      else unknownNotDone++;
    } else if (n > 0) {
      warnings.push(`${rec.op} ${rec.requestId} answered ${rec.code} but its change is in the log (a retry with the same request id answers ok)`);
    }
  }

  // Versions: contiguous 1..n, no duplicates, in every key stream.
  for (const [stream, vs] of versions) {
    const sorted = [...vs].sort((a, b) => a - b);
    if (!sorted.every((v, i) => v === i + 1)) failures.push(`key stream ${stream} has versions [${sorted.join(',')}] (want 1..${sorted.length})`);
  }

  // Every acknowledged data key decrypts, to the same plaintext.
  let decrypted = 0;
  const acked = history.records.filter((r) => r.outcome === 'ok' && r.dataKey);
  for (let i = 0; i < acked.length; i += 16) {
    await Promise.all(acked.slice(i, i + 16).map(async (rec) => {
      const r = await decryptWithRetry(client, rec);
      if (r.outcome !== 'ok') failures.push(`acknowledged data key ${rec.requestId} does not decrypt: ${r.code}`);
      else if (r.data?.plaintext !== rec.dataKey!.plaintext) failures.push(`acknowledged data key ${rec.requestId} decrypts to other bytes`);
      else decrypted++;
    }));
  }

  const report: CheckReport = {
    failures, warnings, acked: history.byOutcome('ok').length, errors: history.byOutcome('error').length, unknown: history.byOutcome('unknown').length,
    unknownDone, unknownNotDone, decrypted, keysChecked: versions.size, overDeadline: history.records.filter((r) => r.overDeadline).length,
  };
  if (opts.audit !== false && stack.audit) report.audit = await checkAudit(stack, client, history, failures);
  return report;
}

async function decryptWithRetry(client: ChaosClient, rec: OpRecord): Promise<{ outcome: string; code?: string; data?: { plaintext?: string } }> {
  for (let attempt = 1; ; attempt++) {
    const r = await client.call<{ plaintext?: string }>('keys', 'decrypt', { ciphertextBlob: rec.dataKey!.ciphertextBlob, encryptionContext: rec.dataKey!.context }, undefined, 10_000);
    if (r.outcome === 'ok' || attempt >= 3 || r.code === 'EKM_INVALID_CIPHERTEXT') return r;
    await new Promise((res) => setTimeout(res, 500));
  }
}

/** The trail holds every source event (waits for it), every acknowledged request id, and verifies. */
async function checkAudit(stack: ChaosStack, client: ChaosClient, history: History, failures: string[]): Promise<{ entries: number; ok: boolean; reason: string }> {
  const deadline = Date.now() + 60_000;
  const missing = new Map<string, number>();
  while (Date.now() < deadline) {
    for (const source of stack.auditSources) {
      missing.set(source, await stack.admin(async (c) => Number((await c.query<{ n: string }>(
        `SELECT count(*) AS n FROM ekm_${source}.events e WHERE NOT EXISTS (SELECT 1 FROM ekm_audit.trail t WHERE t.source_service = $1 AND t.source_event_id = e.event_id::text)`, [source])).rows[0].n)));
    }
    if ([...missing.values()].every((n) => n === 0)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  for (const [source, n] of missing) if (n !== 0) failures.push(`audit trail is missing ${n} source events of ekm_${source} after 60 s`);
  const ids = history.records.filter((r) => r.outcome === 'ok').map((r) => r.requestId);
  const inTrail = await stack.admin(async (c) => new Set((await c.query<{ id: string }>(
    `SELECT entry::jsonb -> 'request' ->> 'id' AS id FROM ekm_audit.trail WHERE category = 'key_usage' AND (entry::jsonb -> 'request' ->> 'id') = ANY($1)`, [ids])).rows.map((r) => r.id)));
  const absent = ids.filter((id) => !inTrail.has(id));
  if (absent.length > 0) failures.push(`${absent.length} acknowledged operations have no audit trail entry (e.g. ${absent[0]})`);
  const v = await stack.verifyAudit(client);
  if (!v.ok) {
    failures.push(`audit verify did not answer: ${v.code}`);
    return { entries: 0, ok: false, reason: v.code };
  }
  if (!v.data.ok) failures.push(`audit trail does not verify: ${v.data.reason}`);
  return { entries: v.data.entries, ok: v.data.ok, reason: v.data.reason };
}

/**
 * Rebuilds the inline key projection from the log and compares it with the live tables. The keys
 * service must be stopped (an inline projection is rebuilt with its writers paused).
 */
export async function checkProjectionRebuild(stack: ChaosStack): Promise<string | null> {
  if (stack.replicasOf('keys').some((k) => k.alive)) throw new Error('stop every keys replica before rebuilding its projection');
  const snapshot = (): Promise<string> => stack.admin(async (c) => {
    const q = async (sql: string): Promise<unknown[]> => (await c.query(sql)).rows;
    return JSON.stringify([
      await q('SELECT * FROM ekm_keys.keys ORDER BY id'),
      await q('SELECT * FROM ekm_keys.key_versions ORDER BY key_id, version'),
      await q('SELECT * FROM ekm_keys.aliases ORDER BY alias'),
    ]);
  });
  const live = await snapshot();
  const pool = new Pool({ connectionString: stack.adminUrl, max: 2 });
  try {
    await rebuildProjection({ pool, service: 'keys', projection: new RebuildKeyProjection('keys') });
  } finally {
    await pool.end();
  }
  const rebuilt = await snapshot();
  return rebuilt === live ? null : `rebuilt key projection differs from the live one (live ${live.length} chars, rebuilt ${rebuilt.length})`;
}
