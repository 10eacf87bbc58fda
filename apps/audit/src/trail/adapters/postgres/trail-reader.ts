/** Reads of the trail: verify's scan, query with cursor pagination, the key-usage report aggregate. */
import type { Pool } from 'pg';
import type { AuditEntry } from '../../domain/audit-entry';
import type { CheckpointRow, TrailRow, TrailSource } from '../../application/verify-trail';
import type { ReceiptTrailRow } from '../../application/destruction-receipt';
import { COLUMNS_MATCH_SQL } from './trail-columns';

export interface TrailQuery {
  readonly keyId?: string;
  readonly principal?: string;
  readonly tenant?: string;
  readonly action?: string;
  readonly outcome?: string;
  readonly category?: string;
  /** Epoch ms, inclusive. */
  readonly fromMs?: number;
  /** Epoch ms, exclusive. */
  readonly toMs?: number;
  /** Leaf index to continue after (the previous page's `nextCursor`). */
  readonly cursor?: number;
  readonly limit: number;
  readonly order: 'asc' | 'desc';
}

export interface TrailPage {
  readonly entries: readonly (AuditEntry & { readonly hash: string })[];
  readonly nextCursor: number | null;
}

export interface UsageRow {
  readonly keyId: string;
  readonly keyVersion: number | null;
  readonly tenant: string | null;
  readonly collection: string | null;
  readonly asset: string | null;
  readonly operations: number;
  readonly firstAt: string;
  readonly lastAt: string;
}

/** Usage actions that protect data (the keys service's crypto operations; ReEncryptFrom is its source half). */
export const DATA_PLANE_ACTIONS = ['Encrypt', 'Decrypt', 'ReEncrypt', 'ReEncryptFrom', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'GenerateMac', 'VerifyMac'];

export class TrailReader implements TrailSource {
  constructor(private readonly pool: Pool, private readonly s = 'ekm_audit') {}

  async checkpoints(): Promise<CheckpointRow[]> {
    const { rows } = await this.pool.query<{ tree_size: string; root: Buffer; payload: string; signature: Buffer }>(`SELECT tree_size, root, payload, signature FROM ${this.s}.checkpoints ORDER BY tree_size`);
    return rows.map((r) => ({ treeSize: Number(r.tree_size), root: r.root, payload: r.payload, signature: r.signature }));
  }

  async scan(after: number, limit: number): Promise<TrailRow[]> {
    // rowMode array: ~2x fewer allocations on the hot verify path.
    const r = await this.pool.query<[string, string, Buffer, boolean]>({ text: `SELECT leaf_index, entry, hash, ${COLUMNS_MATCH_SQL} FROM ${this.s}.trail WHERE leaf_index > $1 ORDER BY leaf_index LIMIT $2`, values: [after, limit], rowMode: 'array' });
    return r.rows.map((x) => ({ leafIndex: Number(x[0]), entry: x[1], hash: x[2], columnsMatch: x[3] }));
  }

  async head(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string | null }>(`SELECT max(leaf_index) AS n FROM ${this.s}.trail`);
    return Number(rows[0].n ?? 0);
  }

  async headWithHash(): Promise<{ treeSize: number; root: string }> {
    const { rows } = await this.pool.query<{ leaf_index: string; hash: Buffer }>(`SELECT leaf_index, hash FROM ${this.s}.trail ORDER BY leaf_index DESC LIMIT 1`);
    return rows.length === 0 ? { treeSize: 0, root: Buffer.alloc(32).toString('hex') } : { treeSize: Number(rows[0].leaf_index), root: rows[0].hash.toString('hex') };
  }

  /** What a destruction receipt cites: the key's lifecycle entries, and the EpochEnded entries after `afterIndex`. */
  async receiptRows(keyId: string): Promise<{ keyRows: ReceiptTrailRow[]; epochRows: ReceiptTrailRow[] }> {
    const toRow = (r: { leaf_index: string; entry: string; hash: Buffer }): ReceiptTrailRow => ({ leafIndex: Number(r.leaf_index), hash: r.hash.toString('hex'), entry: JSON.parse(r.entry) as ReceiptTrailRow['entry'] });
    const keyRows = (await this.pool.query<{ leaf_index: string; entry: string; hash: Buffer }>(
      `SELECT leaf_index, entry, hash FROM ${this.s}.trail WHERE key_id = $1 AND category = 'key_lifecycle' ORDER BY leaf_index LIMIT 10000`, [keyId])).rows.map(toRow);
    const destroyed = keyRows.find((r) => r.entry.action === 'KeyDestroyed');
    if (destroyed === undefined) return { keyRows, epochRows: [] };
    const epochRows = (await this.pool.query<{ leaf_index: string; entry: string; hash: Buffer }>(
      `SELECT leaf_index, entry, hash FROM ${this.s}.trail WHERE action = 'EpochEnded' AND leaf_index > $1 ORDER BY leaf_index LIMIT 1000`, [destroyed.leafIndex])).rows.map(toRow);
    return { keyRows, epochRows };
  }

  async query(q: TrailQuery): Promise<TrailPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, v: unknown): void => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (q.keyId !== undefined) add('key_id = ?', q.keyId);
    if (q.principal !== undefined) add('principal = ?', q.principal);
    if (q.tenant !== undefined) add('tenant = ?', q.tenant);
    if (q.action !== undefined) add('action = ?', q.action);
    if (q.outcome !== undefined) add('outcome = ?', q.outcome);
    if (q.category !== undefined) add('category = ?', q.category);
    if (q.fromMs !== undefined) add('time_ms >= ?', q.fromMs);
    if (q.toMs !== undefined) add('time_ms < ?', q.toMs);
    if (q.cursor !== undefined) add(q.order === 'asc' ? 'leaf_index > ?' : 'leaf_index < ?', q.cursor);
    params.push(q.limit + 1);
    const sql = `SELECT leaf_index, entry, hash FROM ${this.s}.trail ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY leaf_index ${q.order === 'asc' ? 'ASC' : 'DESC'} LIMIT $${params.length}`;
    const { rows } = await this.pool.query<{ leaf_index: string; entry: string; hash: Buffer }>(sql, params);
    const page = rows.slice(0, q.limit);
    return {
      entries: page.map((r) => ({ ...(JSON.parse(r.entry) as AuditEntry), hash: r.hash.toString('hex') })),
      nextCursor: rows.length > q.limit ? Number(page[page.length - 1].leaf_index) : null,
    };
  }

  /** The tenant the trail's entries put `keyId` in (its lifecycle and usage entries), or null when none names one. */
  async tenantOfKey(keyId: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ tenant: string }>(`SELECT tenant FROM ${this.s}.trail WHERE key_id = $1 AND tenant IS NOT NULL ORDER BY leaf_index LIMIT 1`, [keyId]);
    return rows[0]?.tenant ?? null;
  }

  /** Successful key uses in [fromMs, toMs), grouped by key, version and data asset (context fields). */
  async usage(fromMs: number, toMs: number, filter: { tenant?: string; keyId?: string }): Promise<UsageRow[]> {
    const ctx = (k: string): string => `(entry::jsonb -> 'encryptionContext' ->> '${k}')`;
    const params: unknown[] = [fromMs, toMs, DATA_PLANE_ACTIONS];
    let extra = '';
    if (filter.tenant !== undefined) {
      params.push(filter.tenant);
      extra += ` AND coalesce(${ctx('tenant')}, tenant) = $${params.length}`;
    }
    if (filter.keyId !== undefined) {
      params.push(filter.keyId);
      extra += ` AND key_id = $${params.length}`;
    }
    const { rows } = await this.pool.query<{ key_id: string; key_version: number | null; tenant: string | null; collection: string | null; asset: string | null; n: string; first_ms: string; last_ms: string }>(
      `SELECT key_id, key_version, coalesce(${ctx('tenant')}, tenant) AS tenant, ${ctx('collection')} AS collection, ${ctx('asset')} AS asset,
              count(*) AS n, min(time_ms) AS first_ms, max(time_ms) AS last_ms
         FROM ${this.s}.trail
        WHERE category = 'key_usage' AND outcome = 'success' AND key_id IS NOT NULL AND time_ms >= $1 AND time_ms < $2 AND action = ANY($3::text[])${extra}
        GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5`,
      params,
    );
    return rows.map((r) => ({
      keyId: r.key_id, keyVersion: r.key_version, tenant: r.tenant, collection: r.collection, asset: r.asset,
      operations: Number(r.n), firstAt: new Date(Number(r.first_ms)).toISOString(), lastAt: new Date(Number(r.last_ms)).toISOString(),
    }));
  }
}
