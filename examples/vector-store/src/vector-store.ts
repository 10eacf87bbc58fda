/**
 * A tenant-isolated vector store that keeps every embedding and its metadata encrypted at rest in
 * Postgres through the EKM SDK: one EKM key per tenant, one data key per asset (context
 * `{tenant, collection, asset}`), envelopes in bytea columns. Queries decrypt (through the SDK's
 * decrypt cache) and rank by cosine similarity. After a key rotation `rewrap` moves every stored
 * wrapped data key to the new primary version; `shred` destroys the tenant's key, after which its rows
 * are noise.
 */
import type { Pool } from 'pg';
import {
  CachingDataKeyProvider, decryptMetadata, decryptVector, encryptMetadata, encryptVector, rewrapEnvelopes,
  type CachingDataKeyProviderOptions, type Ekm, type JsonValue, type KeyInfo,
} from '@ekm/client';
import { topK } from './cosine';
import { SCHEMA } from './vector-store.schema';

export interface AssetInput {
  readonly asset: string;
  readonly vector: Float32Array;
  readonly metadata: JsonValue;
}

export interface Neighbour {
  readonly asset: string;
  readonly score: number;
  readonly metadata: JsonValue;
}

export interface RewrapReport {
  readonly keyId: string;
  readonly primaryVersion: number;
  /** Rows whose envelopes now carry a data key wrapped under `primaryVersion`. */
  readonly rewrapped: number;
  /** Rows that already were under the primary version. */
  readonly current: number;
}

export interface ShredReport {
  readonly keyId: string;
  readonly status: KeyInfo['status'];
  /** When the key may be destroyed (null once destroyed). */
  readonly deletionDate: string | null;
}

interface AssetRow { asset: string; collection: string; vector_env: Buffer; metadata_env: Buffer; key_version: number }

export class VectorStore {
  /** Shared data-key cache: one GenerateDataKey per asset, and repeated queries do not call EKM again. */
  readonly keys: CachingDataKeyProvider;

  constructor(private readonly ekm: Ekm, private readonly pool: Pool, cache: CachingDataKeyProviderOptions = {}) {
    this.keys = new CachingDataKeyProvider(ekm.crypto, { encrypt: { maxAgeMs: 60_000 }, decrypt: { maxAgeMs: 60_000 }, ...cache });
  }

  /** The tenant's EKM key id, creating the key (purpose-bound to the tenant) on first use. */
  async tenantKey(tenant: string): Promise<string> {
    const found = await this.pool.query<{ key_id: string }>(`SELECT key_id FROM ${SCHEMA}.tenants WHERE tenant = $1`, [tenant]);
    if (found.rows[0]) return found.rows[0].key_id;
    const key = await this.ekm.keys.createKey({ tenant, description: `vector-store tenant ${tenant}`, requiredContext: { tenant } });
    // A concurrent first ingest may win the insert: then its key is the tenant's and ours stays unused.
    await this.pool.query(`INSERT INTO ${SCHEMA}.tenants (tenant, key_id) VALUES ($1, $2) ON CONFLICT (tenant) DO NOTHING`, [tenant, key.keyId]);
    const row = await this.pool.query<{ key_id: string }>(`SELECT key_id FROM ${SCHEMA}.tenants WHERE tenant = $1`, [tenant]);
    return row.rows[0]!.key_id;
  }

  /** Encrypts and upserts assets. Errors: EkmError (key not active, ...), VectorInputInvalidError. */
  async ingest(tenant: string, collection: string, items: readonly AssetInput[]): Promise<number> {
    const keyId = await this.tenantKey(tenant);
    for (const item of items) {
      const ctx = { tenant, collection, asset: item.asset };
      const v = await encryptVector(this.keys, keyId, ctx, item.vector);
      const m = await encryptMetadata(this.keys, keyId, ctx, item.metadata);
      await this.pool.query(
        `INSERT INTO ${SCHEMA}.assets (tenant, collection, asset, dimensions, vector_env, metadata_env, key_id, key_version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (tenant, collection, asset) DO UPDATE SET dimensions = $4, vector_env = $5, metadata_env = $6,
           key_id = $7, key_version = $8, updated_at = now()`,
        [tenant, collection, item.asset, item.vector.length, v.envelope, m.envelope, v.keyId, v.keyVersion],
      );
    }
    return items.length;
  }

  /**
   * The `k` nearest assets of the tenant's collection by cosine similarity (decrypts every vector of
   * the collection, then only the winners' metadata). Errors: EkmError from EKM (`EKM_KEY_NOT_ACTIVE`
   * once the tenant's key is disabled or destroyed), EnvelopeInvalidError for a tampered row.
   */
  async query(tenant: string, collection: string, vector: Float32Array, k: number): Promise<Neighbour[]> {
    const rows = await this.rows(tenant, collection);
    const decrypted: Array<{ row: AssetRow; vector: Float32Array }> = [];
    for (const row of rows) {
      decrypted.push({ row, vector: await decryptVector(this.keys, { tenant, collection, asset: row.asset }, row.vector_env) });
    }
    const best = topK(vector, decrypted.filter((d) => d.vector.length === vector.length), (d) => d.vector, k);
    const out: Neighbour[] = [];
    for (const { item, score } of best) {
      const metadata = await decryptMetadata(this.keys, { tenant, collection, asset: item.row.asset }, item.row.metadata_env);
      out.push({ asset: item.row.asset, score, metadata });
    }
    return out;
  }

  /** Rotates the tenant's EKM key now (new primary version); run {@link rewrap} afterwards. */
  async rotate(tenant: string): Promise<KeyInfo> {
    return this.ekm.keys.rotateKey(await this.tenantKey(tenant));
  }

  /**
   * Re-wraps every row's data key that is not under the key's primary version (EKM ReEncryptBatch; the
   * data keys never leave EKM, the payloads are untouched). Each row is updated only if it did not
   * change meanwhile. Errors: EkmError; the first failing row's error is thrown after the others are done.
   */
  async rewrap(tenant: string): Promise<RewrapReport> {
    const keyId = await this.tenantKey(tenant);
    const info = await this.ekm.keys.describeKey(keyId);
    const primary = info.primaryVersion ?? 0;
    const rows = (await this.rows(tenant)).filter((r) => r.key_version !== primary);
    const total = await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${SCHEMA}.assets WHERE tenant = $1`, [tenant]);
    const results = await rewrapEnvelopes(this.ekm.crypto, rows.flatMap((r) => {
      const context = { tenant, collection: r.collection, asset: r.asset };
      return [{ envelope: r.vector_env, context }, { envelope: r.metadata_env, context }];
    }));
    let firstError: Error | undefined;
    let rewrapped = 0;
    for (let i = 0; i < rows.length; i++) {
      const [v, m] = [results[2 * i]!, results[2 * i + 1]!];
      if (!v.ok || !m.ok) {
        firstError ??= !v.ok ? v.error : (m as { error: Error }).error;
        continue;
      }
      const r = rows[i]!;
      const upd = await this.pool.query(
        `UPDATE ${SCHEMA}.assets SET vector_env = $4, metadata_env = $5, key_id = $6, key_version = $7, updated_at = now()
         WHERE tenant = $1 AND collection = $2 AND asset = $3 AND vector_env = $8 AND metadata_env = $9`,
        [tenant, r.collection, r.asset, v.value.envelope, m.value.envelope, v.value.keyId, v.value.keyVersion, r.vector_env, r.metadata_env],
      );
      rewrapped += upd.rowCount ?? 0;
    }
    if (firstError) throw firstError;
    // Cached unwrapped keys were looked up by the old blobs; drop them so nothing keeps them alive.
    this.keys.invalidateKey(keyId);
    return { keyId, primaryVersion: primary, rewrapped, current: Number(total.rows[0]!.n) - rows.length };
  }

  /**
   * Crypto-shredding: schedules the tenant's key for deletion (`windowDays`, at least the keys
   * service's EKM_DELETION_MIN_DAYS) and destroys it once the date has passed (run again later if it
   * has not). Drops this process's cached data keys of the tenant at once.
   */
  async shred(tenant: string, windowDays = 7): Promise<ShredReport> {
    const keyId = await this.tenantKey(tenant);
    this.keys.invalidateKey(keyId);
    let info = await this.ekm.keys.describeKey(keyId);
    if (info.status === 'Enabled' || info.status === 'Disabled') info = await this.ekm.keys.scheduleKeyDeletion(keyId, windowDays);
    if (info.status === 'PendingDeletion' && info.deletionDate !== null && Date.parse(info.deletionDate) <= Date.now()) {
      info = await this.ekm.keys.destroyKey(keyId);
    }
    return { keyId, status: info.status, deletionDate: info.deletionDate };
  }

  /** Assets of the tenant (and collection), in asset order. */
  private async rows(tenant: string, collection?: string): Promise<AssetRow[]> {
    const r = await this.pool.query<AssetRow>(
      `SELECT asset, collection, vector_env, metadata_env, key_version FROM ${SCHEMA}.assets
       WHERE tenant = $1 AND ($2::text IS NULL OR collection = $2) ORDER BY collection, asset`,
      [tenant, collection ?? null],
    );
    return r.rows;
  }
}
