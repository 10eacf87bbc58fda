/**
 * The trail's own health, beyond "the process answers": quarantined entries, records waiting for the
 * trail (lag and age of the oldest), and whether the signer still trusts the head. Served in the
 * audit status reply (so `ekm health` shows it), in readiness (lag) and as Prometheus metrics.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Pool } from 'pg';
import type { TrailAppender } from './postgres/trail-appender';
import type { SourceLag, TrailLag } from './postgres/trail-lag';

export interface TrailHealth {
  readonly head: number;
  /** Quarantined entries in the whole trail (category `quarantine`). */
  readonly quarantined: number;
  /** Source records committed but not yet in the trail, and the age of the oldest (ms). */
  readonly unappended: number;
  readonly oldestUnappendedAgeMs: number | null;
  readonly sources: readonly SourceLag[];
  /** `trusted` while checkpoints are signed; otherwise why the signer stopped (tampering, a cut, a restore). */
  readonly signing: { readonly trusted: boolean; readonly through: number | null; readonly reason: string | null };
}

interface HealthSource {
  readonly pool: Pool;
  readonly appender: TrailAppender;
  readonly lag: TrailLag;
}

export async function trailHealth(rt: HealthSource, schema = 'ekm_audit'): Promise<TrailHealth> {
  const [lag, counts] = await Promise.all([
    rt.lag.measure(),
    rt.pool.query<{ head: string | null; q: string }>(
      `SELECT (SELECT max(leaf_index) FROM ${schema}.trail) AS head, (SELECT count(*) FROM ${schema}.trail WHERE category = 'quarantine') AS q`),
  ]);
  const queuedAt = rt.appender.oldestQueuedAt;
  const queuedAge = queuedAt === null ? null : Date.now() - queuedAt;
  const ages = [lag.oldestAgeMs, queuedAge].filter((a): a is number => a !== null);
  const guard = rt.appender.guard;
  return {
    head: Number(counts.rows[0].head ?? 0),
    quarantined: Number(counts.rows[0].q),
    unappended: lag.unappended,
    oldestUnappendedAgeMs: ages.length > 0 ? Math.max(...ages) : null,
    sources: lag.sources,
    signing: { trusted: guard.untrustedReason === null, through: guard.trustedIndex, reason: guard.untrustedReason },
  };
}

/** `ekm_audit_*` gauges, read at scrape time. */
export function registerTrailMetrics(registry: Registry, rt: HealthSource): void {
  let last: Promise<TrailHealth> | null = null;
  // One health read per scrape, shared by the gauges.
  const read = (): Promise<TrailHealth> => {
    last ??= trailHealth(rt).finally(() => setTimeout(() => { last = null; }, 500).unref());
    return last;
  };
  const gauge = (name: string, help: string, value: (h: TrailHealth) => number): void => {
    new Gauge({ name, help, registers: [registry], async collect() { this.set(value(await read())); } });
  };
  gauge('ekm_audit_quarantined_entries', 'Trail entries quarantined because the record could not be stored as is', (h) => h.quarantined);
  gauge('ekm_audit_unappended_records', 'Committed source records not yet in the trail (capped per source)', (h) => h.unappended);
  gauge('ekm_audit_oldest_unappended_age_seconds', 'Age of the oldest source record not yet in the trail (0 when none)', (h) => (h.oldestUnappendedAgeMs ?? 0) / 1000);
  gauge('ekm_audit_signing_trusted', '1 while the signer trusts the trail head; 0 after it found the stored chain altered', (h) => (h.signing.trusted ? 1 : 0));
}
