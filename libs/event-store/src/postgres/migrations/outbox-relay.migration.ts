/**
 * The outbox relay's own row per schema: its checkpoint (compare-and-set, forward only) and its lease
 * (holder + fencing counter, for status and for fencing a stale holder's checkpoint writes). The lease
 * itself is a session advisory lock, so a dead process releases it with its connection.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import type { Pool } from 'pg';
import { quoteIdent, serviceSchema } from '../service-schema';

/** Idempotent DDL, shared by the migration and `ensureRelayTables`. */
export function relayTablesSql(schema: string): string[] {
  const s = quoteIdent(schema);
  return [
    `CREATE TABLE IF NOT EXISTS ${s}.outbox_relay (
      name text PRIMARY KEY,
      transaction_id xid8 NOT NULL DEFAULT '0',
      global_position bigint NOT NULL DEFAULT 0,
      holder text NULL,
      fencing bigint NOT NULL DEFAULT 0,
      lease_acquired_at timestamptz NULL,
      heartbeat_at timestamptz NULL,
      published bigint NOT NULL DEFAULT 0,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
    `INSERT INTO ${s}.outbox_relay (name) VALUES ('outbox') ON CONFLICT (name) DO NOTHING`,
  ];
}

export class OutboxRelayMigration implements MigrationInterface {
  // Runs after EventLogMigration (1767225600000): the schema's default privileges then give the app
  // role SELECT/INSERT/UPDATE/DELETE on this table.
  readonly name = 'EkmOutboxRelay1767225700000';

  constructor(private readonly service: string) {}

  async up(q: QueryRunner): Promise<void> {
    for (const sql of relayTablesSql(serviceSchema(this.service))) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS ${quoteIdent(serviceSchema(this.service))}.outbox_relay`);
  }
}

/** Same tables without the migration runner (needs CREATE on the schema, i.e. the admin URL). */
export async function ensureRelayTables(pool: Pool, service: string): Promise<void> {
  for (const sql of relayTablesSql(serviceSchema(service))) await pool.query(sql);
}
