/**
 * The rotation service's tables in schema `ekm_rotation` (after the event store's migrations):
 * - `schedule_keys`: one row per key, fed by key events; rotation, deletion and failure columns. Each
 *   column group carries the key-stream position of the event that last set it, so events applied out
 *   of order (three replicas share one durable consumer) or twice change nothing (idempotent).
 * - `key_rotations`: one row per KeyRotated (reason SCHEDULED/ON_DEMAND/BUDGET), `import_tokens`,
 *   `key_versions`: the rest of the schedule projection.
 * - `executions`: the ledger of served due slots (one row per slot; a second one would be a duplicate).
 * - `assets`: re-wrap tracking, asset -> (key, version) that last wrapped its data key.
 * - `clock_offset` + `clock_now()`: THE clock of due-ness (the database's `now()`), plus an offset only
 *   the admin role can set (tests inject time with it; the app role may only read it).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { quoteIdent, serviceRole, serviceSchema } from '@ekm/event-store';

export class RotationSchemaMigration implements MigrationInterface {
  // After EkmEventLog (1767225600000) and EkmOutboxRelay (1767225700000).
  readonly name = 'EkmRotationSchema1767400000000';

  constructor(private readonly service: string) {}

  async up(q: QueryRunner): Promise<void> {
    const s = quoteIdent(serviceSchema(this.service));
    const role = quoteIdent(serviceRole(this.service));
    await q.query(`CREATE TABLE ${s}.clock_offset (id boolean PRIMARY KEY DEFAULT true CHECK (id), offset_ms bigint NOT NULL)`);
    await q.query(`REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ${s}.clock_offset FROM ${role}`);
    await q.query(`CREATE FUNCTION ${s}.clock_now() RETURNS timestamptz LANGUAGE sql STABLE AS $$
      SELECT now() + make_interval(secs => coalesce((SELECT offset_ms FROM ${s}.clock_offset), 0) / 1000.0)
    $$`);
    await q.query(`
      CREATE TABLE ${s}.schedule_keys (
        key_id text PRIMARY KEY,
        tenant text NULL,
        stream_version int NOT NULL DEFAULT 0,
        primary_version int NULL,
        primary_pos int NOT NULL DEFAULT 0,
        rotation_period_days int NULL,
        next_rotation_at timestamptz NULL,
        rotation_pos int NOT NULL DEFAULT 0,
        deletion_due_at timestamptz NULL,
        deletion_pos int NOT NULL DEFAULT 0,
        destroyed_at timestamptz NULL,
        rotate_attempts int NOT NULL DEFAULT 0,
        rotate_retry_at timestamptz NULL,
        rotate_error text NULL,
        destroy_attempts int NOT NULL DEFAULT 0,
        destroy_retry_at timestamptz NULL,
        destroy_error text NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX schedule_keys_rotation_due ON ${s}.schedule_keys (next_rotation_at) WHERE next_rotation_at IS NOT NULL AND destroyed_at IS NULL`);
    await q.query(`CREATE INDEX schedule_keys_deletion_due ON ${s}.schedule_keys (deletion_due_at) WHERE deletion_due_at IS NOT NULL AND destroyed_at IS NULL`);
    await q.query(`
      CREATE TABLE ${s}.key_rotations (
        key_id text NOT NULL, to_version int NOT NULL, from_version int NOT NULL, reason text NOT NULL, rotated_at timestamptz NOT NULL,
        PRIMARY KEY (key_id, to_version)
      )`);
    await q.query(`CREATE TABLE ${s}.key_versions (key_id text NOT NULL, version int NOT NULL, status text NOT NULL, pos int NOT NULL, PRIMARY KEY (key_id, version))`);
    await q.query(`
      CREATE TABLE ${s}.import_tokens (
        token_id text PRIMARY KEY, key_id text NOT NULL, expires_at timestamptz NULL, state text NOT NULL,
        attempts int NOT NULL DEFAULT 0, retry_at timestamptz NULL, last_error text NULL
      )`);
    await q.query(`CREATE INDEX import_tokens_due ON ${s}.import_tokens (expires_at) WHERE state = 'Issued'`);
    await q.query(`
      CREATE TABLE ${s}.executions (
        key_id text NOT NULL, kind text NOT NULL, ref text NOT NULL, due_at timestamptz NOT NULL,
        request_id text NOT NULL, executed_at timestamptz NOT NULL, replica text NOT NULL,
        PRIMARY KEY (key_id, kind, ref, due_at)
      )`);
    await q.query(`
      CREATE TABLE ${s}.assets (
        tenant text NOT NULL, collection text NOT NULL, asset text NOT NULL,
        key_id text NOT NULL, key_version int NOT NULL, wrapped_at timestamptz NOT NULL, operation text NOT NULL,
        PRIMARY KEY (tenant, collection, asset)
      )`);
    await q.query(`CREATE INDEX assets_key_version ON ${s}.assets (key_id, key_version)`);
  }

  async down(q: QueryRunner): Promise<void> {
    const s = quoteIdent(serviceSchema(this.service));
    for (const t of ['assets', 'executions', 'import_tokens', 'key_versions', 'key_rotations', 'schedule_keys', 'clock_offset']) await q.query(`DROP TABLE IF EXISTS ${s}.${t}`);
    await q.query(`DROP FUNCTION IF EXISTS ${s}.clock_now()`);
  }
}
