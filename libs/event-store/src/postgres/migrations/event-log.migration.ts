/**
 * The event log of one service schema (ARCHITECTURE §3): events, streams (expected-version CAS),
 * projection checkpoints and JetStream dead letters, with immutability enforced by grants and triggers.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { eventsNotifyChannel, quoteIdent, serviceRole, serviceSchema } from '../service-schema';

export class EventLogMigration implements MigrationInterface {
  // TypeORM takes the timestamp from the name's last 13 digits; it is per schema, so the same for all.
  readonly name = 'EkmEventLog1767225600000';

  constructor(private readonly service: string) {}

  async up(q: QueryRunner): Promise<void> {
    const s = quoteIdent(serviceSchema(this.service));
    const role = quoteIdent(serviceRole(this.service));
    const channel = eventsNotifyChannel(this.service);
    await q.query(`CREATE SEQUENCE ${s}.events_global_position_seq AS bigint`);
    await q.query(`
      CREATE TABLE ${s}.events (
        global_position bigint NOT NULL DEFAULT nextval('${s}.events_global_position_seq') PRIMARY KEY,
        transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        stream_id text NOT NULL,
        stream_position int NOT NULL CHECK (stream_position >= 1),
        event_id uuid NOT NULL UNIQUE,
        event_type text NOT NULL,
        schema_version int NOT NULL DEFAULT 1,
        data jsonb NOT NULL,
        metadata jsonb NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (stream_id, stream_position)
      )`);
    await q.query(`ALTER SEQUENCE ${s}.events_global_position_seq OWNED BY ${s}.events.global_position`);
    await q.query(`CREATE INDEX events_transaction_order ON ${s}.events (transaction_id, global_position)`);
    await q.query(`CREATE TABLE ${s}.streams (stream_id text PRIMARY KEY, version int NOT NULL CHECK (version >= 1))`);
    await q.query(`
      CREATE TABLE ${s}.projection_checkpoints (
        name text PRIMARY KEY,
        transaction_id xid8 NOT NULL,
        global_position bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE ${s}.dead_letters (
        id bigserial PRIMARY KEY,
        consumer text NOT NULL,
        subject text NOT NULL,
        stream_seq bigint NOT NULL,
        event_id uuid NULL,
        error text NOT NULL,
        payload jsonb NULL,
        recorded_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX dead_letters_consumer ON ${s}.dead_letters (consumer, recorded_at)`);

    // Immutability for every role, owner included (a superuser could still disable triggers; that is audited elsewhere).
    await q.query(`
      CREATE FUNCTION ${s}.events_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'events are immutable: % on %.% is not allowed', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON ${s}.events FOR EACH ROW EXECUTE FUNCTION ${s}.events_are_immutable()`);
    await q.query(`CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON ${s}.events FOR EACH STATEMENT EXECUTE FUNCTION ${s}.events_are_immutable()`);
    // One notification per appending transaction: NOTIFY folds identical payloads within a transaction.
    await q.query(`
      CREATE FUNCTION ${s}.events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('${channel}', '');
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER events_notify AFTER INSERT ON ${s}.events FOR EACH STATEMENT EXECUTE FUNCTION ${s}.events_notify()`);

    await q.query(`REVOKE ALL ON ALL TABLES IN SCHEMA ${s} FROM PUBLIC`);
    await q.query(`GRANT USAGE ON SCHEMA ${s} TO ${role}`);
    await q.query(`GRANT SELECT, INSERT ON ${s}.events TO ${role}`);
    await q.query(`GRANT USAGE, SELECT ON SEQUENCE ${s}.events_global_position_seq TO ${role}`);
    await q.query(`GRANT SELECT, INSERT, UPDATE ON ${s}.streams TO ${role}`);
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${s}.projection_checkpoints TO ${role}`);
    await q.query(`GRANT SELECT, INSERT, DELETE ON ${s}.dead_letters TO ${role}`);
    await q.query(`GRANT USAGE, SELECT ON SEQUENCE ${s}.dead_letters_id_seq TO ${role}`);
    // Tables that services add in later migrations (projections, key_material, ...) get plain DML for
    // the app role; the events table above was created before this, so it keeps SELECT/INSERT only.
    await q.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${role}`);
    await q.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT USAGE, SELECT ON SEQUENCES TO ${role}`);
  }

  async down(q: QueryRunner): Promise<void> {
    const s = quoteIdent(serviceSchema(this.service));
    const role = quoteIdent(serviceRole(this.service));
    await q.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} REVOKE ALL ON TABLES FROM ${role}`);
    await q.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} REVOKE ALL ON SEQUENCES FROM ${role}`);
    // DROP TABLE does not fire row or TRUNCATE triggers: dropping the log is a deliberate admin act.
    await q.query(`DROP TABLE ${s}.dead_letters, ${s}.projection_checkpoints, ${s}.streams, ${s}.events`);
    await q.query(`DROP FUNCTION ${s}.events_notify(), ${s}.events_are_immutable()`);
  }
}
