/** UNSEAL_VERIFIERS over `ekm_keys.unseal_verifiers` (see tenant-seal.migration.ts). */
import type { Pool } from 'pg';
import { quoteIdent, serviceSchema, type TransactionContext } from '@ekm/event-store';
import type { SealVerifier, UnsealVerifierStore } from '../../application/tenants/tenant-seal.ports';

export class PgUnsealVerifierStore implements UnsealVerifierStore {
  private readonly table: string;

  constructor(private readonly pool: Pool, service = 'keys') {
    this.table = `${quoteIdent(serviceSchema(service))}.unseal_verifiers`;
  }

  async save(tx: TransactionContext, tenant: string, sealPosition: number, v: SealVerifier): Promise<void> {
    await tx.query(`INSERT INTO ${this.table} (tenant, seal_position, scheme, salt, hash) VALUES ($1, $2, $3, $4, $5)`, [tenant, sealPosition, v.scheme, v.salt, v.hash]);
  }

  async load(tenant: string, sealPosition: number): Promise<SealVerifier | null> {
    const r = await this.pool.query<{ scheme: string; salt: string; hash: string }>(`SELECT scheme, salt, hash FROM ${this.table} WHERE tenant = $1 AND seal_position = $2`, [tenant, sealPosition]);
    const row = r.rows[0];
    // An unknown scheme is treated as no verifier at all: the unseal is then refused (fail closed).
    return row === undefined || row.scheme !== 'scrypt-hmac-v1' ? null : { scheme: 'scrypt-hmac-v1', salt: row.salt, hash: row.hash };
  }
}
