/**
 * TENANT_ROOT_STORE over `key_material`: a tenant's root is the row `tenant-root:<tenant>` / version 1,
 * fence-checked like every material write, so the epoch roller re-wraps it and the forward ledger keeps it.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { quoteIdent, serviceSchema, type TransactionContext } from '@ekm/event-store';
import { PG_POOL } from '@ekm/service-kit';
import type { StoredKek, WrappedKek } from '../../application/epochs/epoch.ports';
import { TENANT_ROOT_VERSION, tenantRootKeyId, type TenantRootStore } from '../../application/tenant-roots/tenant-root.ports';
import { PgEpochStateStore } from './epoch-state.store';

@Injectable()
export class PgTenantRootStore implements TenantRootStore {
  private readonly s = quoteIdent(serviceSchema('keys'));
  private readonly epochs: PgEpochStateStore;

  constructor(@Inject(PG_POOL) private readonly pool: Pool) {
    this.epochs = new PgEpochStateStore(pool);
  }

  async get(tenant: string): Promise<StoredKek | null> {
    const keyId = tenantRootKeyId(tenant);
    const { rows } = await this.pool.query<{ wrapped: Buffer; epoch: string; material_ref: string }>(
      `SELECT wrapped, epoch, material_ref FROM ${this.s}.key_material WHERE key_id = $1 AND version = $2`, [keyId, TENANT_ROOT_VERSION]);
    const r = rows[0];
    return r === undefined ? null : { keyId, version: TENANT_ROOT_VERSION, materialRef: r.material_ref, epoch: r.epoch, wrapped: r.wrapped };
  }

  async create(tenant: string, wrapped: WrappedKek): Promise<boolean> {
    const keyId = tenantRootKeyId(tenant);
    return this.inTransaction(async (tx) => {
      await this.epochs.checkFence(tx, wrapped.epoch);
      const rows = await tx.query(
        `INSERT INTO ${this.s}.key_material (key_id, version, material_ref, wrapped, epoch) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING key_id`,
        [keyId, TENANT_ROOT_VERSION, keyId, wrapped.wrapped, wrapped.epoch]);
      return rows.length === 1;
    });
  }

  async replace(tenant: string, wrapped: WrappedKek, reason: string): Promise<void> {
    const keyId = tenantRootKeyId(tenant);
    await this.inTransaction(async (tx) => {
      await this.epochs.checkFence(tx, wrapped.epoch);
      const rows = await tx.query(`UPDATE ${this.s}.key_material SET wrapped = $3, epoch = $4 WHERE key_id = $1 AND version = $2 RETURNING key_id`,
        [keyId, TENANT_ROOT_VERSION, wrapped.wrapped, wrapped.epoch]);
      if (rows.length !== 1) throw new Error(`the root row of tenant ${tenant} disappeared while it was replaced`);
      await this.epochs.requestRoll(tx, reason, keyId);
    });
  }

  private async inTransaction<T>(fn: (tx: TransactionContext) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const tx: TransactionContext = { query: async <R>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as R[] };
      const out = await fn(tx);
      await client.query('COMMIT');
      return out;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }
}
