/**
 * The audit schema (`ekm_audit`, beside its event log): the trail, signed checkpoints and the wrapped
 * signing key are append-only for every role (grants + the event store's trigger approach); the
 * per-source sweep checkpoints and the SIEM relay position are ordinary mutable rows.
 *
 * `trail.entry` holds the exact canonical JSON that is hashed; the query columns are GENERATED from
 * it, so they cannot drift from (or be edited apart from) what the chain covers.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { quoteIdent, serviceRole, serviceSchema } from '@ekm/event-store';

const APPEND_ONLY = ['trail', 'checkpoints', 'signing_key'] as const;

export class AuditTrailMigration implements MigrationInterface {
  readonly name = 'EkmAuditTrail1767400000000';

  constructor(private readonly service: string) {}

  async up(q: QueryRunner): Promise<void> {
    const s = quoteIdent(serviceSchema(this.service));
    const role = quoteIdent(serviceRole(this.service));
    const j = (path: string): string => `(entry::jsonb ${path})`;
    await q.query(`
      CREATE TABLE ${s}.trail (
        leaf_index bigint PRIMARY KEY CHECK (leaf_index >= 1),
        entry text NOT NULL,
        hash bytea NOT NULL CHECK (length(hash) = 32),
        appended_at timestamptz NOT NULL DEFAULT now(),
        time_ms bigint GENERATED ALWAYS AS (${j("->> 'timeMs'")}::bigint) STORED,
        category text GENERATED ALWAYS AS ${j("->> 'category'")} STORED,
        action text GENERATED ALWAYS AS ${j("->> 'action'")} STORED,
        outcome text GENERATED ALWAYS AS ${j("->> 'outcome'")} STORED,
        principal text GENERATED ALWAYS AS ${j("-> 'actor' ->> 'principal'")} STORED,
        tenant text GENERATED ALWAYS AS ${j("->> 'tenant'")} STORED,
        key_id text GENERATED ALWAYS AS ${j("->> 'keyId'")} STORED,
        key_version int GENERATED ALWAYS AS (${j("->> 'keyVersion'")}::int) STORED,
        source_service text GENERATED ALWAYS AS ${j("-> 'source' ->> 'service'")} STORED,
        source_event_id text GENERATED ALWAYS AS ${j("-> 'source' ->> 'eventId'")} STORED,
        source_stream_id text GENERATED ALWAYS AS ${j("-> 'source' ->> 'streamId'")} STORED,
        source_stream_position int GENERATED ALWAYS AS (${j("-> 'source' ->> 'streamPosition'")}::int) STORED
      )`);
    // Idempotency: a source event enters the trail once; a stream position too (no forged duplicates).
    await q.query(`CREATE UNIQUE INDEX trail_source_event ON ${s}.trail (source_service, source_event_id)`);
    await q.query(`CREATE UNIQUE INDEX trail_source_position ON ${s}.trail (source_service, source_stream_id, source_stream_position)`);
    await q.query(`CREATE INDEX trail_key ON ${s}.trail (key_id, leaf_index) WHERE key_id IS NOT NULL`);
    await q.query(`CREATE INDEX trail_principal ON ${s}.trail (principal, leaf_index)`);
    await q.query(`CREATE INDEX trail_tenant ON ${s}.trail (tenant, leaf_index) WHERE tenant IS NOT NULL`);
    await q.query(`CREATE INDEX trail_time ON ${s}.trail (time_ms)`);
    await q.query(`
      CREATE TABLE ${s}.checkpoints (
        tree_size bigint PRIMARY KEY CHECK (tree_size >= 1),
        root bytea NOT NULL CHECK (length(root) = 32),
        signed_at timestamptz NOT NULL,
        key_id text NOT NULL,
        payload text NOT NULL,
        signature bytea NOT NULL
      )`);
    await q.query(`
      CREATE TABLE ${s}.signing_key (
        id int PRIMARY KEY CHECK (id = 1),
        key_id text NOT NULL,
        public_key bytea NOT NULL,
        wrapped_private bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE TABLE ${s}.source_checkpoints (service text PRIMARY KEY, transaction_id xid8 NOT NULL, global_position bigint NOT NULL)`);
    await q.query(`CREATE TABLE ${s}.siem_relay (id int PRIMARY KEY CHECK (id = 1), published_through bigint NOT NULL, checkpoints_through bigint NOT NULL)`);
    await q.query(`INSERT INTO ${s}.siem_relay VALUES (1, 0, 0)`);
    await q.query(`
      CREATE FUNCTION ${s}.audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'the audit trail is append-only: % on %.% is not allowed', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    for (const t of APPEND_ONLY) {
      await q.query(`CREATE TRIGGER ${t}_no_update_delete BEFORE UPDATE OR DELETE ON ${s}.${t} FOR EACH ROW EXECUTE FUNCTION ${s}.audit_is_append_only()`);
      await q.query(`CREATE TRIGGER ${t}_no_truncate BEFORE TRUNCATE ON ${s}.${t} FOR EACH STATEMENT EXECUTE FUNCTION ${s}.audit_is_append_only()`);
      await q.query(`REVOKE UPDATE, DELETE, TRUNCATE ON ${s}.${t} FROM ${role}`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    const s = quoteIdent(serviceSchema(this.service));
    await q.query(`DROP TABLE ${s}.siem_relay, ${s}.source_checkpoints, ${s}.signing_key, ${s}.checkpoints, ${s}.trail`);
    await q.query(`DROP FUNCTION ${s}.audit_is_append_only()`);
  }
}
