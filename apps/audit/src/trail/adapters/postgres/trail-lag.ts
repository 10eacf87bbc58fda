/**
 * Is the trail keeping up? Per source: committed events past the sweeper's checkpoint that have no
 * trail entry yet, and the age of the oldest. "Up" is not enough: a consumer retrying one record for
 * ever answers every probe while nothing is appended. Counted up to a cap (the probe must stay cheap
 * under load) and cached for a second, since readiness, status and metrics all ask. A source event is
 * in the trail when its stream position is (the trail's source identity; a usage batch is one event).
 */
import type { Pool } from 'pg';
import { quoteIdent, serviceSchema } from '@ekm/event-store';

export interface SourceLag {
  readonly service: string;
  /** Committed source records not in the trail yet (at most `cap`; `capped` when more). */
  readonly unappended: number;
  readonly capped: boolean;
  /** Age of the oldest of them, in ms; null when there is none (or the source is not readable yet). */
  readonly oldestAgeMs: number | null;
  readonly error?: string;
}

export interface TrailLagReport {
  readonly sources: readonly SourceLag[];
  readonly unappended: number;
  readonly oldestAgeMs: number | null;
  readonly measuredAt: string;
}

export class TrailLag {
  private cached: { at: number; report: Promise<TrailLagReport> } | null = null;

  constructor(private readonly o: { pool: Pool; sources: readonly string[]; schema?: string; cap?: number; cacheMs?: number }) {}

  measure(): Promise<TrailLagReport> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < (this.o.cacheMs ?? 1_000)) return this.cached.report;
    const report = this.measureNow();
    this.cached = { at: now, report };
    report.catch(() => { this.cached = null; });
    return report;
  }

  private async measureNow(): Promise<TrailLagReport> {
    const sources = await Promise.all(this.o.sources.map((s) => this.source(s)));
    const ages = sources.map((s) => s.oldestAgeMs).filter((a): a is number => a !== null);
    return {
      sources,
      unappended: sources.reduce((n, s) => n + s.unappended, 0),
      oldestAgeMs: ages.length > 0 ? Math.max(...ages) : null,
      measuredAt: new Date().toISOString(),
    };
  }

  private async source(service: string): Promise<SourceLag> {
    const a = this.o.schema ?? 'ekm_audit';
    const cap = this.o.cap ?? 10_000;
    try {
      const { rows } = await this.o.pool.query<{ n: string; oldest_ms: string | null }>(
        `SELECT count(*) AS n, (extract(epoch FROM now() - min(recorded_at)) * 1000)::bigint AS oldest_ms FROM (
           SELECT e.recorded_at FROM ${quoteIdent(serviceSchema(service))}.events e
            WHERE e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
              -- the checkpoint as two scalar subqueries (no checkpoint: from the start), so the range is an
              -- index condition; as a join condition it was a scan of the whole log on every probe
              AND (e.transaction_id, e.global_position) > (
                COALESCE((SELECT transaction_id FROM ${a}.source_checkpoints WHERE service = $1), '0'::xid8),
                COALESCE((SELECT global_position FROM ${a}.source_checkpoints WHERE service = $1), 0))
              AND NOT EXISTS (SELECT 1 FROM ${a}.trail t WHERE t.source_service = $1 AND t.source_stream_id = e.stream_id AND t.source_stream_position = e.stream_position)
            ORDER BY e.transaction_id, e.global_position LIMIT $2) x`,
        [service, cap + 1]);
      const n = Number(rows[0].n);
      return { service, unappended: Math.min(n, cap), capped: n > cap, oldestAgeMs: rows[0].oldest_ms === null ? null : Math.max(0, Number(rows[0].oldest_ms)) };
    } catch (err) {
      const code = (err as { code?: string }).code;
      // Not granted or not migrated yet: nothing to lag behind (the grant is retried at start).
      if (code === '42501' || code === '42P01' || code === '3F000') return { service, unappended: 0, capped: false, oldestAgeMs: null, error: `source not readable (${code})` };
      throw err;
    }
  }
}
