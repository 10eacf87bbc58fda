/**
 * `key_material`: root-wrapped KEK versions, outside the event log (ARCHITECTURE §3) so that
 * crypto-shredding can delete them. Writes take the append's TransactionContext: material commits
 * with its KeyVersionAdded / KeyMaterialImported, and disappears with KeyDestroyed.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { quoteIdent, serviceSchema, type TransactionContext } from '@ekm/event-store';
import { PG_POOL } from '@ekm/service-kit';
import type { KeyMaterialStore } from '../../application/ports';

@Injectable()
export class PgKeyMaterialStore implements KeyMaterialStore {
  private readonly s = quoteIdent(serviceSchema('keys'));

  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** `materialRef` defaults to `<keyId>/<version>`; the command handler passes the ref its event names. */
  async put(tx: TransactionContext, keyId: string, version: number, wrapped: Buffer, materialRef = `${keyId}/${version}`): Promise<void> {
    await tx.query(`INSERT INTO ${this.s}.key_material (key_id, version, material_ref, wrapped) VALUES ($1, $2, $3, $4)`, [keyId, version, materialRef, wrapped]);
  }

  async get(keyId: string, version: number): Promise<Buffer | null> {
    const { rows } = await this.pool.query<{ wrapped: Buffer }>(`SELECT wrapped FROM ${this.s}.key_material WHERE key_id = $1 AND version = $2`, [keyId, version]);
    return rows[0]?.wrapped ?? null;
  }

  async deleteVersion(tx: TransactionContext, keyId: string, version: number): Promise<void> {
    await tx.query(`DELETE FROM ${this.s}.key_material WHERE key_id = $1 AND version = $2`, [keyId, version]);
  }

  async deleteAll(tx: TransactionContext, keyId: string): Promise<number> {
    const rows = await tx.query(`DELETE FROM ${this.s}.key_material WHERE key_id = $1 RETURNING version`, [keyId]);
    return rows.length;
  }
}
