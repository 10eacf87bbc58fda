/** GCM_COUNTER_STORE over `ekm_keys.gcm_budget` (see gcm-budget.migration.ts). */
import type { Pool } from 'pg';
import { quoteIdent, serviceSchema } from '@ekm/event-store';
import type { GcmCounterStore } from '../../application/crypto/crypto.ports';

export class PostgresGcmCounterStore implements GcmCounterStore {
  private readonly table: string;

  constructor(private readonly pool: Pool, service = 'keys') {
    this.table = `${quoteIdent(serviceSchema(service))}.gcm_budget`;
  }

  async reserve(keyId: string, version: number, block: number): Promise<number> {
    // One statement: the row lock serializes replicas, so blocks never overlap.
    const r = await this.pool.query<{ reserved: string }>(
      `INSERT INTO ${this.table} (key_id, version, reserved) VALUES ($1, $2, $3)
       ON CONFLICT (key_id, version) DO UPDATE SET reserved = ${this.table}.reserved + EXCLUDED.reserved, updated_at = now()
       RETURNING reserved`,
      [keyId, version, block],
    );
    return Number(r.rows[0]!.reserved);
  }

  async reserved(keyId: string, version: number): Promise<number> {
    const r = await this.pool.query<{ reserved: string }>(`SELECT reserved FROM ${this.table} WHERE key_id = $1 AND version = $2`, [keyId, version]);
    return r.rows.length === 0 ? 0 : Number(r.rows[0]!.reserved);
  }
}
