/** Shared helpers of the rotation e2e specs: rotation replicas as child processes, the injected clock, polling. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Client } from 'pg';
import { urlFor } from '../support/pg';
import { waitFor as sharedWaitFor } from '../support/wait-for';

export interface Replica {
  readonly proc: ChildProcess;
  readonly output: string[];
  readonly ready: Promise<void>;
}

const ROOT = join(__dirname, '..', '..');

/** `node dist/apps/rotation/src/main.js` with a fast tick and a short lease; resolves `ready` on its ready line. */
export function spawnRotation(natsUrl: string, db: { name: string; url: string }, env: Record<string, string> = {}): Replica {
  const output: string[] = [];
  const proc = spawn(process.execPath, [join(ROOT, 'dist/apps/rotation/src/main.js')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH, EKM_NATS_URL: natsUrl, EKM_DATABASE_URL: urlFor(db.name, 'ekm_rotation'), EKM_DATABASE_ADMIN_URL: db.url,
      EKM_HTTP_PORT: '0', EKM_AUTH: 'disabled', EKM_LOG_LEVEL: 'info', EKM_ROTATION_TICK_MS: '200', EKM_ROTATION_LEASE_MS: '1500', EKM_ROTATION_BATCH: '4', ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (b: Buffer): void => {
      const s = b.toString();
      output.push(s);
      if (s.includes('"event":"ready"')) resolve();
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (b: Buffer) => output.push(b.toString()));
    proc.once('exit', (code, sig) => reject(new Error(`rotation replica exited (${code ?? sig}) before ready: ${output.join('').slice(-2000)}`)));
  });
  ready.catch(() => undefined);
  return { proc, output, ready };
}

export async function stopReplica(r: Replica, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (r.proc.exitCode !== null || r.proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => r.proc.once('exit', () => resolve()));
  r.proc.kill(signal);
  await exited;
}

/** Shifts BOTH services' clocks (rotation due-ness and the keys deletion window) to database now() + offset. */
export async function setClockOffset(pg: Client, offsetMs: number): Promise<void> {
  for (const schema of ['ekm_rotation', 'ekm_keys']) {
    await pg.query(`INSERT INTO ${schema}.clock_offset (id, offset_ms) VALUES (true, $1) ON CONFLICT (id) DO UPDATE SET offset_ms = excluded.offset_ms`, [offsetMs]);
  }
}

/** Polls `probe` until it holds; the deadline scales with the load (test/support/wait-for.ts). */
export function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
  return sharedWaitFor(probe, { what, timeoutMs, intervalMs: 100 });
}

/** Scheduled rotations per key, counted in the keys service's own log (the truth, not the scheduler's ledger). */
export async function scheduledRotations(pg: Client, keyIds: readonly string[]): Promise<Map<string, number>> {
  const { rows } = await pg.query<{ stream_id: string; n: string }>(
    `SELECT stream_id, count(*) AS n FROM ekm_keys.events WHERE event_type = 'KeyRotated' AND data->>'reason' = 'SCHEDULED' AND stream_id = ANY($1) GROUP BY stream_id`,
    [keyIds.map((k) => `key-${k}`)],
  );
  const m = new Map(keyIds.map((k) => [k, 0]));
  for (const r of rows) m.set(r.stream_id.slice(4), Number(r.n));
  return m;
}
