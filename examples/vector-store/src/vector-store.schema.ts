/** The example's own tables, in schema `vector_store` of whatever database it is given. Idempotent. */
import type { Pool } from 'pg';

export const SCHEMA = 'vector_store';

export async function migrateVectorStore(pool: Pool): Promise<void> {
  await pool.query(`
    CREATE SCHEMA IF NOT EXISTS ${SCHEMA};
    -- One EKM key per tenant (purpose-bound to the tenant); only its id is stored here.
    CREATE TABLE IF NOT EXISTS ${SCHEMA}.tenants (
      tenant     text PRIMARY KEY,
      key_id     text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    -- One asset per row. Both columns are vector envelopes (docs/envelope-format.md): nothing in
    -- this table is readable without EKM unwrapping the data key they carry.
    CREATE TABLE IF NOT EXISTS ${SCHEMA}.assets (
      tenant       text NOT NULL,
      collection   text NOT NULL,
      asset        text NOT NULL,
      dimensions   int NOT NULL,
      vector_env   bytea NOT NULL,
      metadata_env bytea NOT NULL,
      key_id       text NOT NULL,
      key_version  int NOT NULL,
      updated_at   timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant, collection, asset)
    );
  `);
}
