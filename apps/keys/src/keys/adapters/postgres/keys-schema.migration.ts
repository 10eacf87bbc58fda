/**
 * The keys service's own tables in schema `ekm_keys`, after the event store's migrations:
 * - `keys`, `key_versions`, `aliases`: the inline key projection (rebuildable from the log);
 *   `aliases.alias` is the PRIMARY KEY, which makes aliases unique across keys (the domain only checks
 *   within a key).
 * - `key_material`: root-wrapped KEK versions, OUTSIDE the log so DestroyKey can delete them.
 * - `import_tokens`: BYOK wrapping key pairs (private half wrapped under the root), single-use.
 * The app role gets SELECT/INSERT/UPDATE/DELETE through the schema's default privileges.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { quoteIdent, serviceSchema } from '@ekm/event-store';

export class KeysSchemaMigration implements MigrationInterface {
  // After EkmEventLog (1767225600000) and EkmOutboxRelay (1767225700000).
  readonly name = 'EkmKeysSchema1767300000000';

  constructor(private readonly service: string) {}

  async up(q: QueryRunner): Promise<void> {
    const s = quoteIdent(serviceSchema(this.service));
    await q.query(`
      CREATE TABLE ${s}.keys (
        id text PRIMARY KEY,
        tenant text NOT NULL,
        status text NOT NULL,
        spec text NOT NULL,
        usage text NOT NULL,
        origin text NOT NULL,
        description text NOT NULL,
        tags jsonb NOT NULL,
        required_context jsonb NOT NULL,
        primary_version int NULL,
        rotation_enabled boolean NOT NULL,
        rotation_period_days int NULL,
        next_rotation_at timestamptz NULL,
        last_rotated_at timestamptz NULL,
        deletion_date timestamptz NULL,
        revoked_at timestamptz NULL,
        destroyed_at timestamptz NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        stream_version int NOT NULL
      )`);
    await q.query(`CREATE INDEX keys_tenant_id ON ${s}.keys (tenant, id)`);
    await q.query(`CREATE INDEX keys_status_id ON ${s}.keys (status, id)`);
    await q.query(`CREATE INDEX keys_tags ON ${s}.keys USING gin (tags jsonb_path_ops)`);
    await q.query(`CREATE INDEX keys_next_rotation ON ${s}.keys (next_rotation_at) WHERE rotation_enabled`);
    await q.query(`
      CREATE TABLE ${s}.key_versions (
        key_id text NOT NULL REFERENCES ${s}.keys (id),
        version int NOT NULL CHECK (version >= 1),
        status text NOT NULL,
        is_primary boolean NOT NULL,
        fingerprint text NOT NULL,
        origin text NOT NULL,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (key_id, version)
      )`);
    await q.query(`
      CREATE TABLE ${s}.aliases (
        alias text PRIMARY KEY,
        key_id text NOT NULL REFERENCES ${s}.keys (id)
      )`);
    await q.query(`CREATE INDEX aliases_key ON ${s}.aliases (key_id)`);
    await q.query(`
      CREATE TABLE ${s}.key_material (
        key_id text NOT NULL,
        version int NOT NULL CHECK (version >= 1),
        material_ref text NOT NULL UNIQUE,
        wrapped bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (key_id, version)
      )`);
    await q.query(`
      CREATE TABLE ${s}.import_tokens (
        token_id text PRIMARY KEY,
        key_id text NOT NULL,
        wrapped_private_key bytea NOT NULL,
        wrapping_public_key text NOT NULL,
        algorithm text NOT NULL,
        wrapping_key_spec text NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX import_tokens_key ON ${s}.import_tokens (key_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    const s = quoteIdent(serviceSchema(this.service));
    await q.query(`DROP TABLE ${s}.import_tokens, ${s}.key_material, ${s}.aliases, ${s}.key_versions, ${s}.keys`);
  }
}
