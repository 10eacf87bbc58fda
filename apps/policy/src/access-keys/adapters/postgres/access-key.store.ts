/** Rows of `ekm_policy.access_keys` (see the migration): the live keys and their wrapped secrets. */
import type { Pool } from 'pg';
import { quoteIdent, serviceSchema, type TransactionContext } from '@ekm/event-store';
import type { AccessKeyRow, AccessKeyStore } from '../../application/access-key.ports';

interface Row { access_key_id: string; principal_id: string; tenant: string; wrapped_secret: Buffer | null; created_at: Date; deleted_at: Date | null }

const toRow = (r: Row): AccessKeyRow => ({
  accessKeyId: r.access_key_id, principalId: r.principal_id, tenant: r.tenant, wrappedSecret: r.wrapped_secret,
  createdAt: r.created_at.toISOString(), deletedAt: r.deleted_at ? r.deleted_at.toISOString() : null,
});

export class PgAccessKeyStore implements AccessKeyStore {
  private readonly t: string;

  constructor(private readonly pool: Pool, service = 'policy') {
    this.t = `${quoteIdent(serviceSchema(service))}.access_keys`;
  }

  async get(accessKeyId: string): Promise<AccessKeyRow | null> {
    const r = await this.pool.query<Row>(`SELECT * FROM ${this.t} WHERE access_key_id = $1`, [accessKeyId]);
    return r.rows[0] ? toRow(r.rows[0]) : null;
  }

  async listOfPrincipal(principalId: string): Promise<AccessKeyRow[]> {
    const r = await this.pool.query<Row>(`SELECT * FROM ${this.t} WHERE principal_id = $1 ORDER BY created_at, access_key_id`, [principalId]);
    return r.rows.map(toRow);
  }

  async insert(tx: TransactionContext, row: { accessKeyId: string; principalId: string; tenant: string; wrappedSecret: Buffer; createdAt: string }): Promise<void> {
    await tx.query(`INSERT INTO ${this.t} (access_key_id, principal_id, tenant, wrapped_secret, created_at) VALUES ($1, $2, $3, $4, $5)`,
      [row.accessKeyId, row.principalId, row.tenant, row.wrappedSecret, row.createdAt]);
  }

  async markDeleted(tx: TransactionContext, accessKeyId: string, at: string): Promise<void> {
    await tx.query(`UPDATE ${this.t} SET wrapped_secret = NULL, deleted_at = $2 WHERE access_key_id = $1 AND deleted_at IS NULL`, [accessKeyId, at]);
  }
}
