/**
 * What the "scheduler paused past its lease" scenario needs to see inside the rotation service:
 * which replica holds claimed rows right now (a claim transaction has an xid: `SELECT ... FOR UPDATE`
 * locks rows; its Postgres session is mapped to the replica's OS process through the session's client
 * port and the replica's sockets in /proc), the rows it holds (`xmax` of a row locked by one
 * transaction is that transaction's xid), the injected scheduler clock, and scheduled rotations as the
 * keys service's own log records them (the truth, not the scheduler's ledger).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { ChaosStack } from './chaos-stack';
import type { ServiceProcess } from './service-process';

export const DAY_MS = 86_400_000;

export interface ClaimHolder {
  readonly replica: ServiceProcess;
  readonly xid: string;
  /** The rows it holds: key and the slot (due time, epoch ms) it is serving. */
  readonly slots: readonly { keyId: string; dueMs: number }[];
}

/** The replica holding claimed rows now, or null (no claim transaction open). */
export async function claimHolder(stack: ChaosStack): Promise<ClaimHolder | null> {
  const sessions = await stack.admin(async (c) => (await c.query<{ client_port: number; xid: string }>(
    `SELECT client_port, backend_xid::text AS xid FROM pg_stat_activity WHERE usename = 'ekm_rotation' AND backend_xid IS NOT NULL`)).rows);
  for (const s of sessions) {
    const replica = stack.rotation.find((r) => r.alive && localPortsOf(r.pid).has(s.client_port));
    if (!replica) continue;
    const slots = await stack.admin(async (c) => (await c.query<{ key_id: string; due_ms: number }>(
      `SELECT key_id, round(extract(epoch from next_rotation_at) * 1000)::float8 AS due_ms FROM ekm_rotation.schedule_keys WHERE xmax::text = $1`, [s.xid])).rows);
    if (slots.length > 0) return { replica, xid: s.xid, slots: slots.map((r) => ({ keyId: r.key_id, dueMs: Number(r.due_ms) })) };
  }
  return null;
}

/** Local TCP ports of the sockets process `pid` holds (its /proc fd links matched to /proc/<pid>/net/tcp). */
function localPortsOf(pid: number): Set<number> {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const m = /^socket:\[(\d+)\]$/.exec(safeReadlink(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    }
  } catch {
    return new Set();
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try { text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && inodes.has(f[9]!)) ports.add(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

function safeReadlink(path: string): string {
  try { return readlinkSync(path); } catch { return ''; }
}

/** Moves the scheduler's clock (rotation due-ness only) to database now() + `offsetMs`. */
export async function setClockOffset(stack: ChaosStack, offsetMs: number): Promise<void> {
  await stack.admin((c) => c.query(`INSERT INTO ekm_rotation.clock_offset (id, offset_ms) VALUES (true, $1) ON CONFLICT (id) DO UPDATE SET offset_ms = excluded.offset_ms`, [offsetMs]));
}

/** How many of `keyIds` the schedule projection tracks with a next rotation. */
export async function trackedForRotation(stack: ChaosStack, keyIds: readonly string[]): Promise<number> {
  return stack.admin(async (c) => Number((await c.query<{ n: string }>(
    `SELECT count(*) AS n FROM ekm_rotation.schedule_keys WHERE key_id = ANY($1) AND next_rotation_at IS NOT NULL`, [keyIds])).rows[0]!.n));
}

/** How many of `keyIds` have a SCHEDULED rotation applied by the schedule projection. */
export async function scheduledProjected(stack: ChaosStack, keyIds: readonly string[]): Promise<number> {
  return stack.admin(async (c) => Number((await c.query<{ n: string }>(
    `SELECT count(DISTINCT key_id) AS n FROM ekm_rotation.key_rotations WHERE key_id = ANY($1) AND reason = 'SCHEDULED'`, [keyIds])).rows[0]!.n));
}

/** KeyRotated (reason SCHEDULED) per key, and request ids (correlation ids) that rotated more than once. */
export async function scheduledRotations(stack: ChaosStack, keyIds: readonly string[]): Promise<{ perKey: Map<string, number>; repeated: string[] }> {
  return stack.admin(async (c) => {
    const streams = keyIds.map((k) => `key-${k}`);
    const { rows } = await c.query<{ stream_id: string; n: string }>(
      `SELECT stream_id, count(*) AS n FROM ekm_keys.events WHERE event_type = 'KeyRotated' AND data->>'reason' = 'SCHEDULED' AND stream_id = ANY($1) GROUP BY stream_id`, [streams]);
    const perKey = new Map(keyIds.map((k) => [k, 0]));
    for (const r of rows) perKey.set(r.stream_id.slice(4), Number(r.n));
    const repeated = (await c.query<{ id: string; n: string }>(
      `SELECT metadata->>'correlationId' AS id, count(*) AS n FROM ekm_keys.events WHERE event_type = 'KeyRotated' AND data->>'reason' = 'SCHEDULED' AND stream_id = ANY($1)
        GROUP BY 1 HAVING count(*) > 1`, [streams])).rows.map((r) => `${r.id} x${r.n}`);
    return { perKey, repeated };
  });
}

/** The scheduler's ledger rows of these slots: who served each (`host:pid`), if anyone recorded it. */
export async function executionsOf(stack: ChaosStack, slots: readonly { keyId: string; dueMs: number }[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await stack.admin(async (c) => {
    for (const s of slots) {
      const { rows } = await c.query<{ replica: string }>(
        `SELECT replica FROM ekm_rotation.executions WHERE kind = 'ROTATE' AND key_id = $1 AND due_at = to_timestamp($2::float8 / 1000)`, [s.keyId, s.dueMs]);
      if (rows[0]) out.set(s.keyId, rows[0].replica);
    }
  });
  return out;
}
