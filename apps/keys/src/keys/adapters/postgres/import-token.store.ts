/**
 * `import_tokens`: the BYOK wrapping key pairs. The private half is stored wrapped under the root of
 * trust (never plain), written in the transaction that appends ImportParametersIssued and marked used
 * in the transaction that appends KeyMaterialImported, so a token is consumed exactly once.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { quoteIdent, serviceSchema, type TransactionContext } from '@ekm/event-store';
import { PG_POOL } from '@ekm/service-kit';
import { ImportTokenRaceError } from '../../application/key-store.errors';

export { ImportTokenRaceError };

export interface StoredImportToken {
  readonly tokenId: string;
  readonly keyId: string;
  readonly wrappedPrivateKey: Buffer;
  readonly publicKey: string;
  readonly algorithm: string;
  readonly wrappingKeySpec: string;
  readonly expiresAt: Date;
  readonly usedAt: Date | null;
}

interface Row { token_id: string; key_id: string; wrapped_private_key: Buffer; wrapping_public_key: string; algorithm: string; wrapping_key_spec: string; expires_at: Date; used_at: Date | null }

@Injectable()
export class PgImportTokenStore {
  private readonly s = quoteIdent(serviceSchema('keys'));

  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async save(tx: TransactionContext, t: Omit<StoredImportToken, 'usedAt'>): Promise<void> {
    await tx.query(
      `INSERT INTO ${this.s}.import_tokens (token_id, key_id, wrapped_private_key, wrapping_public_key, algorithm, wrapping_key_spec, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [t.tokenId, t.keyId, t.wrappedPrivateKey, t.publicKey, t.algorithm, t.wrappingKeySpec, t.expiresAt],
    );
  }

  async get(tokenId: string): Promise<StoredImportToken | null> {
    const { rows } = await this.pool.query<Row>(`SELECT * FROM ${this.s}.import_tokens WHERE token_id = $1`, [tokenId]);
    const r = rows[0];
    if (r === undefined) return null;
    return {
      tokenId: r.token_id, keyId: r.key_id, wrappedPrivateKey: r.wrapped_private_key, publicKey: r.wrapping_public_key,
      algorithm: r.algorithm, wrappingKeySpec: r.wrapping_key_spec, expiresAt: r.expires_at, usedAt: r.used_at,
    };
  }

  /** Marks the token used and forgets its private key; throws ImportTokenRaceError when already used. */
  async consume(tx: TransactionContext, tokenId: string): Promise<void> {
    const rows = await tx.query(
      `UPDATE ${this.s}.import_tokens SET used_at = now(), wrapped_private_key = '\\x'::bytea WHERE token_id = $1 AND used_at IS NULL RETURNING token_id`,
      [tokenId],
    );
    if (rows.length !== 1) throw new ImportTokenRaceError(tokenId);
  }

  async deleteForKey(tx: TransactionContext, keyId: string): Promise<void> {
    await tx.query(`DELETE FROM ${this.s}.import_tokens WHERE key_id = $1`, [keyId]);
  }
}
