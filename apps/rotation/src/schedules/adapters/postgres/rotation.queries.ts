/** Read side of the rotation service: status (schedules, overdue, failures, re-wrap) and re-wrap queries. */
import type { Pool } from 'pg';
import { rewrapProgress, type RewrapProgress } from '../../domain/schedule.rules';

export interface ScheduleStatus {
  /** The scheduler's clock (database time plus any injected offset). */
  readonly now: string;
  readonly trackedKeys: number;
  readonly nextRotations: readonly { keyId: string; nextRotationAt: string; periodDays: number }[];
  /** Due but not yet served (the scheduler is behind, or the item is failing). */
  readonly overdue: readonly { kind: string; keyId: string; dueAt: string }[];
  readonly failures: readonly { kind: string; keyId: string; ref: string; attempts: number; lastError: string; retryAt: string | null }[];
  readonly pendingDeletions: readonly { keyId: string; deletionDueAt: string; liveAssets: number }[];
  readonly pendingImportTokens: readonly { keyId: string; tokenId: string; expiresAt: string }[];
  /** Rotations forced by the keys service before a version reached its AES-GCM budget. */
  readonly budgetRotations: readonly { keyId: string; count: number; lastAt: string }[];
  /** Keys whose tracked assets are not all on the primary version. */
  readonly rewrap: readonly RewrapProgress[];
}

export interface AssetRow { tenant: string; collection: string; asset: string; keyVersion: number; wrappedAt: string }

const iso = (v: unknown): string => new Date(v as string).toISOString();

export class RotationQueries {
  constructor(private readonly pool: Pool, private readonly schema: string) {}

  /** `tenant`: only that tenant's keys (a tenant principal's view); undefined = every tenant (operator scope). */
  async status(limit: number, tenant?: string): Promise<ScheduleStatus> {
    const s = this.schema;
    // $1 = limit, $2 = tenant or null; every row is filtered through its key's tenant.
    const p = [limit, tenant ?? null];
    const q = <R>(sql: string) => this.pool.query(sql, p).then((r) => r.rows as R[]);
    const mine = (col = 'key_id'): string => `($2::text IS NULL OR ${col} IN (SELECT key_id FROM ${s}.schedule_keys WHERE tenant = $2))`;
    const [[clock], [tracked], next, overdue, failures, deletions, tokens, budget, behind] = await Promise.all([
      q<{ now: Date }>(`SELECT ${s}.clock_now() AS now, $1::int AS l, $2::text AS t`),
      q<{ n: string }>(`SELECT count(*) AS n, $1::int AS l FROM ${s}.schedule_keys WHERE destroyed_at IS NULL AND ($2::text IS NULL OR tenant = $2)`),
      q<{ key_id: string; at: Date; p: number }>(`SELECT key_id, next_rotation_at AS at, rotation_period_days AS p FROM ${s}.schedule_keys
        WHERE next_rotation_at > ${s}.clock_now() AND destroyed_at IS NULL AND ($2::text IS NULL OR tenant = $2) ORDER BY next_rotation_at LIMIT $1`),
      q<{ kind: string; key_id: string; at: Date }>(`
        SELECT 'ROTATE' AS kind, key_id, next_rotation_at AS at FROM ${s}.schedule_keys WHERE next_rotation_at <= ${s}.clock_now() AND destroyed_at IS NULL AND deletion_due_at IS NULL AND ($2::text IS NULL OR tenant = $2)
        UNION ALL SELECT 'DESTROY', key_id, deletion_due_at FROM ${s}.schedule_keys WHERE deletion_due_at <= ${s}.clock_now() AND destroyed_at IS NULL AND ($2::text IS NULL OR tenant = $2)
        UNION ALL SELECT 'EXPIRE_TOKEN', key_id, expires_at FROM ${s}.import_tokens WHERE state = 'Issued' AND expires_at <= ${s}.clock_now() AND ${mine()}
        ORDER BY at LIMIT $1`),
      q<{ kind: string; key_id: string; ref: string; attempts: number; err: string; retry: Date | null }>(`
        SELECT 'ROTATE' AS kind, key_id, '' AS ref, rotate_attempts AS attempts, rotate_error AS err, rotate_retry_at AS retry FROM ${s}.schedule_keys WHERE rotate_attempts > 0 AND ($2::text IS NULL OR tenant = $2)
        UNION ALL SELECT 'DESTROY', key_id, '', destroy_attempts, destroy_error, destroy_retry_at FROM ${s}.schedule_keys WHERE destroy_attempts > 0 AND ($2::text IS NULL OR tenant = $2)
        UNION ALL SELECT 'EXPIRE_TOKEN', key_id, token_id, attempts, last_error, retry_at FROM ${s}.import_tokens WHERE attempts > 0 AND ${mine()}
        ORDER BY attempts DESC LIMIT $1`),
      q<{ key_id: string; at: Date; live: string }>(`SELECT k.key_id, k.deletion_due_at AS at, (SELECT count(*) FROM ${s}.assets a WHERE a.key_id = k.key_id) AS live
        FROM ${s}.schedule_keys k WHERE k.deletion_due_at IS NOT NULL AND k.destroyed_at IS NULL AND ($2::text IS NULL OR k.tenant = $2) ORDER BY k.deletion_due_at LIMIT $1`),
      q<{ key_id: string; token_id: string; at: Date }>(`SELECT key_id, token_id, expires_at AS at FROM ${s}.import_tokens WHERE state = 'Issued' AND ${mine()} ORDER BY expires_at LIMIT $1`),
      q<{ key_id: string; n: string; at: Date }>(`SELECT key_id, count(*) AS n, max(rotated_at) AS at FROM ${s}.key_rotations WHERE reason = 'BUDGET' AND ${mine()}
        GROUP BY key_id ORDER BY max(rotated_at) DESC LIMIT $1`),
      q<{ key_id: string }>(`SELECT DISTINCT a.key_id FROM ${s}.assets a JOIN ${s}.schedule_keys k ON k.key_id = a.key_id
        WHERE k.primary_version IS NOT NULL AND a.key_version <> k.primary_version AND k.destroyed_at IS NULL AND ($2::text IS NULL OR k.tenant = $2) LIMIT $1`),
    ]);
    return {
      now: iso(clock!.now),
      trackedKeys: Number(tracked!.n),
      nextRotations: next.map((r) => ({ keyId: r.key_id, nextRotationAt: iso(r.at), periodDays: Number(r.p) })),
      overdue: overdue.map((r) => ({ kind: r.kind, keyId: r.key_id, dueAt: iso(r.at) })),
      failures: failures.map((r) => ({ kind: r.kind, keyId: r.key_id, ref: r.ref, attempts: Number(r.attempts), lastError: r.err, retryAt: r.retry === null ? null : iso(r.retry) })),
      pendingDeletions: deletions.map((r) => ({ keyId: r.key_id, deletionDueAt: iso(r.at), liveAssets: Number(r.live) })),
      pendingImportTokens: tokens.map((r) => ({ keyId: r.key_id, tokenId: r.token_id, expiresAt: iso(r.at) })),
      budgetRotations: budget.map((r) => ({ keyId: r.key_id, count: Number(r.n), lastAt: iso(r.at) })),
      rewrap: await Promise.all(behind.map((r) => this.progress(r.key_id))),
    };
  }

  /** Re-wrap progress of one key; null when the key is unknown to the schedule projection. */
  async progress(keyId: string): Promise<RewrapProgress> {
    const s = this.schema;
    const [key, counts] = await Promise.all([
      this.pool.query<{ primary_version: number | null }>(`SELECT primary_version FROM ${s}.schedule_keys WHERE key_id = $1`, [keyId]),
      this.pool.query<{ v: number; n: string }>(`SELECT key_version AS v, count(*) AS n FROM ${s}.assets WHERE key_id = $1 GROUP BY key_version`, [keyId]),
    ]);
    const primary = key.rows[0]?.primary_version ?? null;
    return rewrapProgress(keyId, primary === null ? null : Number(primary), new Map(counts.rows.map((r) => [Number(r.v), Number(r.n)])));
  }

  /** Whether the key is known (any event of it applied). */
  async knows(keyId: string): Promise<boolean> {
    return (await this.tenantOf(keyId)) !== undefined;
  }

  /** The key's tenant (null when its events carried none); undefined when the key is unknown. */
  async tenantOf(keyId: string): Promise<string | null | undefined> {
    const { rows } = await this.pool.query<{ tenant: string | null }>(`SELECT tenant FROM ${this.schema}.schedule_keys WHERE key_id = $1`, [keyId]);
    return rows.length === 0 ? undefined : rows[0]!.tenant;
  }

  /** Assets whose data key was last wrapped under `version` of `keyId` (oldest first). */
  async assetsUnder(keyId: string, version: number, limit: number): Promise<{ total: number; assets: AssetRow[] }> {
    const s = this.schema;
    const [count, rows] = await Promise.all([
      this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${s}.assets WHERE key_id = $1 AND key_version = $2`, [keyId, version]),
      this.pool.query<{ tenant: string; collection: string; asset: string; key_version: number; wrapped_at: Date }>(
        `SELECT tenant, collection, asset, key_version, wrapped_at FROM ${s}.assets WHERE key_id = $1 AND key_version = $2 ORDER BY wrapped_at, asset LIMIT $3`, [keyId, version, limit]),
    ]);
    return {
      total: Number(count.rows[0]!.n),
      assets: rows.rows.map((r) => ({ tenant: r.tenant, collection: r.collection, asset: r.asset, keyVersion: Number(r.key_version), wrappedAt: iso(r.wrapped_at) })),
    };
  }
}
