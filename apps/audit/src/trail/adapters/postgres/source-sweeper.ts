/**
 * Safety net behind the consumers: sweeps each source's events table in commit order (ARCHITECTURE §3
 * read horizon) from a per-source checkpoint and appends whatever the trail lacks. This catches what
 * per-stream gap detection cannot: the LAST events of a stream lost from JetStream with nothing after
 * them. Cheap when nothing is missing (an event at or below its stream's trail head is a duplicate, known
 * from the appender's memory); runs every EKM_AUDIT_RECONCILE_INTERVAL_MS.
 */
import type { Pool } from 'pg';
import type { RelayLogger } from '@ekm/event-store';
import { readSourceAfter } from './source-events';
import type { TrailAppender } from './trail-appender';

export interface SweepResult {
  readonly service: string;
  readonly read: number;
  readonly appended: number;
}

export class SourceSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(private readonly o: { pool: Pool; appender: TrailAppender; sources: readonly string[]; intervalMs: number; logger: RelayLogger; batch?: number; schema?: string }) {}

  start(): void {
    const tick = (): void => {
      this.running = this.sweepAll().catch((err: unknown) => this.o.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'source sweep failed'));
      void this.running.finally(() => {
        if (this.timer !== null) this.timer = setTimeout(tick, this.o.intervalMs);
      });
    };
    this.timer = setTimeout(tick, this.o.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  async sweepAll(): Promise<SweepResult[]> {
    const out: SweepResult[] = [];
    for (const service of this.o.sources) {
      try {
        out.push(await this.sweep(service));
      } catch (err) {
        const code = (err as { code?: string }).code;
        // 42501/42P01/3F000: no grant yet, or the source has not migrated: try again next round.
        if (code === '42501' || code === '42P01' || code === '3F000') continue;
        throw err;
      }
    }
    return out;
  }

  async sweep(service: string): Promise<SweepResult> {
    const s = this.o.schema ?? 'ekm_audit';
    const { rows } = await this.o.pool.query<{ transaction_id: string; global_position: string }>(
      `SELECT transaction_id::text, global_position::text FROM ${s}.source_checkpoints WHERE service = $1`, [service]);
    let cp = rows[0] ? { transactionId: rows[0].transaction_id, globalPosition: rows[0].global_position } : { transactionId: '0', globalPosition: '0' };
    let read = 0;
    let appended = 0;
    for (;;) {
      const batch = await readSourceAfter(this.o.pool, service, cp, this.o.batch ?? 500);
      if (batch.length === 0) break;
      const outcomes = await this.o.appender.appendMany(batch);
      read += batch.length;
      appended += outcomes.filter((x) => x === 'appended').length;
      const last = batch[batch.length - 1];
      cp = { transactionId: last.transactionId, globalPosition: last.globalPosition };
      await this.o.pool.query(
        `INSERT INTO ${s}.source_checkpoints (service, transaction_id, global_position) VALUES ($1, $2::xid8, $3)
           ON CONFLICT (service) DO UPDATE SET transaction_id = excluded.transaction_id, global_position = excluded.global_position
           WHERE (${s}.source_checkpoints.transaction_id, ${s}.source_checkpoints.global_position) < (excluded.transaction_id, excluded.global_position)`,
        [service, cp.transactionId, cp.globalPosition]);
    }
    if (appended > 0) this.o.logger.info({ service, appended }, 'source sweep appended events not (yet) delivered by JetStream');
    return { service, read, appended };
  }
}
