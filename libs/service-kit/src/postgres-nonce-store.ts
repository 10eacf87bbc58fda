/**
 * The shared replay guard: every accepted (session, nonce) is inserted into `<schema>.request_nonces`
 * (primary key (scope, nonce)) before the handler runs, so a nonce is accepted once by ANY replica of
 * the service, also right after a restart. Why Postgres and not a start-time cut-off: refusing requests
 * older than the process's start closes the restart hole only, not a replay to a second replica; and
 * Postgres is already the service's system of record, shared by its replicas, with no new component.
 *
 * Cost: the claims of concurrent requests are group-committed (one `INSERT … SELECT unnest(…) ON
 * CONFLICT DO NOTHING RETURNING` per batch; up to `maxInFlight` batches on the wire, later claims
 * accumulate), so a request adds one batched round trip and no per-request commit. Rows expire with the
 * timestamp window (`expires_at` = request timestamp + skew); a sweep deletes rows 30 s past it every
 * 30 s, by Postgres' clock (so a replica whose clock is up to 30 s off Postgres' still finds the row).
 * When Postgres cannot answer, claims are 'unavailable' and the request is refused (fail closed).
 */
import type { Pool } from 'pg';
import type { SharedNonceClaim, SharedNonceStore } from '@ekm/auth';
import type { Logger } from '@ekm/telemetry';

interface PendingClaim {
  readonly scope: string;
  readonly nonce: string;
  readonly expiresAt: number;
  readonly resolve: (c: SharedNonceClaim) => void;
}

export interface PostgresNonceStoreOptions {
  readonly pool: Pool;
  /** The service schema (`ekm_<service>`), already quoted-safe (lowercase identifier). */
  readonly schema: string;
  readonly logger?: Logger;
  readonly maxBatch?: number;
  readonly maxInFlight?: number;
  /** Sweep period; 0 disables the sweep (tests). Default 30 s. */
  readonly sweepEveryMs?: number;
}

/** Idempotent DDL of the nonce table (the migration runs it; the app role gets INSERT/DELETE by default privileges). */
export function requestNoncesSql(schema: string): string {
  return `CREATE TABLE IF NOT EXISTS "${schema}".request_nonces (
    scope text NOT NULL,
    nonce text NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (scope, nonce)
  )`;
}

export class PostgresNonceStore implements SharedNonceStore {
  private queue: PendingClaim[] = [];
  private inFlight = 0;
  private readonly sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly o: PostgresNonceStoreOptions) {
    if (!/^[a-z_][a-z0-9_]*$/.test(o.schema)) throw new Error(`PostgresNonceStore: bad schema name ${o.schema}`);
    const every = o.sweepEveryMs ?? 30_000;
    if (every > 0) {
      this.sweeper = setInterval(() => void this.sweep(), every);
      this.sweeper.unref();
    }
  }

  claim(use: { readonly scope: string; readonly nonce: string; readonly expiresAt: number }): Promise<SharedNonceClaim> {
    return new Promise((resolve) => {
      this.queue.push({ ...use, resolve });
      this.pump();
    });
  }

  /** Deletes rows whose window has passed (the database clock decides, the same for every replica). */
  async sweep(): Promise<number> {
    try {
      const r = await this.o.pool.query(`DELETE FROM "${this.o.schema}".request_nonces WHERE expires_at < now() - interval '30 seconds'`);
      return r.rowCount ?? 0;
    } catch (err) {
      this.o.logger?.warn({ err: err instanceof Error ? err.message : String(err) }, 'request nonce sweep failed (retried on the next period)');
      return 0;
    }
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }

  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < (this.o.maxInFlight ?? 3)) {
      const batch = this.queue.splice(0, this.o.maxBatch ?? 1000);
      this.inFlight++;
      void this.flush(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async flush(batch: PendingClaim[]): Promise<void> {
    // The same (scope, nonce) twice in one batch: the first one is the claim, the others replays.
    const first = new Map<string, PendingClaim>();
    const dupes: PendingClaim[] = [];
    for (const c of batch) {
      const k = `${c.scope}\n${c.nonce}`;
      if (first.has(k)) dupes.push(c);
      else first.set(k, c);
    }
    for (const d of dupes) d.resolve('replayed');
    const claims = [...first.values()];
    try {
      const { rows } = await this.o.pool.query<{ scope: string; nonce: string }>(
        `INSERT INTO "${this.o.schema}".request_nonces (scope, nonce, expires_at)
         SELECT s, n, to_timestamp(e / 1000.0) FROM unnest($1::text[], $2::text[], $3::float8[]) AS t(s, n, e)
         ON CONFLICT (scope, nonce) DO NOTHING RETURNING scope, nonce`,
        [claims.map((c) => c.scope), claims.map((c) => c.nonce), claims.map((c) => c.expiresAt)],
      );
      const inserted = new Set(rows.map((r) => `${r.scope}\n${r.nonce}`));
      for (const [k, c] of first) c.resolve(inserted.has(k) ? 'fresh' : 'replayed');
    } catch (err) {
      this.o.logger?.warn({ err: err instanceof Error ? err.message : String(err), claims: claims.length }, 'request nonces could not be claimed; the requests are refused');
      for (const c of claims) c.resolve('unavailable');
    }
  }
}
