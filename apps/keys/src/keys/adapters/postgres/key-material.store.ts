/**
 * `key_material`: epoch-wrapped KEK versions (inside the epoch layer, wrapped under the tenant root that `tenant_root` names, when set), outside the event log (ARCHITECTURE §3) so that
 * crypto-shredding can delete them. Writes take the append's TransactionContext: material commits
 * with its KeyVersionAdded / KeyMaterialImported, and disappears with KeyDestroyed, which also asks
 * for the epoch to end (so backups holding the deleted row lose the key that opens it).
 */
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { quoteIdent, serviceSchema, type TransactionContext } from '@ekm/event-store';
import { PG_POOL } from '@ekm/service-kit';
import type { KeyMaterialStore } from '../../application/ports';
import type { StoredKek, WrappedKek } from '../../application/epochs/epoch.ports';
import { PgEpochStateStore } from './epoch-state.store';

@Injectable()
export class PgKeyMaterialStore implements KeyMaterialStore {
  private readonly s = quoteIdent(serviceSchema('keys'));
  private readonly epochs: PgEpochStateStore;

  constructor(@Inject(PG_POOL) private readonly pool: Pool) {
    this.epochs = new PgEpochStateStore(pool);
  }

  /** `materialRef` defaults to `<keyId>/<version>`; the command handler passes the ref its event names. Refuses a stale epoch (EpochMovedError). */
  async put(tx: TransactionContext, keyId: string, version: number, wrapped: WrappedKek, materialRef = `${keyId}/${version}`): Promise<void> {
    await this.epochs.checkFence(tx, wrapped.epoch);
    await tx.query(`INSERT INTO ${this.s}.key_material (key_id, version, material_ref, wrapped, epoch, tenant_root) VALUES ($1, $2, $3, $4, $5, $6)`,
      [keyId, version, materialRef, wrapped.wrapped, wrapped.epoch, wrapped.tenantRoot ?? null]);
  }

  async get(keyId: string, version: number): Promise<StoredKek | null> {
    const { rows } = await this.pool.query<{ wrapped: Buffer; epoch: string; material_ref: string; tenant_root: string | null }>(
      `SELECT wrapped, epoch, material_ref, tenant_root FROM ${this.s}.key_material WHERE key_id = $1 AND version = $2`, [keyId, version]);
    const r = rows[0];
    return r === undefined ? null : { keyId, version, materialRef: r.material_ref, epoch: r.epoch, wrapped: r.wrapped, tenantRoot: r.tenant_root };
  }

  async deleteVersion(tx: TransactionContext, keyId: string, version: number): Promise<void> {
    await tx.query(`DELETE FROM ${this.s}.key_material WHERE key_id = $1 AND version = $2`, [keyId, version]);
    await this.epochs.requestRoll(tx, `DestroyKeyVersion ${version}`, keyId);
  }

  async deleteAll(tx: TransactionContext, keyId: string): Promise<number> {
    const rows = await tx.query(`DELETE FROM ${this.s}.key_material WHERE key_id = $1 RETURNING version`, [keyId]);
    await this.epochs.requestRoll(tx, 'DestroyKey', keyId);
    return rows.length;
  }
}
