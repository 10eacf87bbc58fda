/**
 * A trail row that costs what it stores, and usage records that arrive in batches.
 *
 * - Batches: one `KeyUsageBatchRecorded` event per group commit of the keys service, each record its
 *   own trail entry. The source identity of an entry becomes (service, stream, position, item), `item`
 *   being the record's index in its batch (0 for every other event): a redelivered batch is recorded
 *   exactly once, record by record. The event-id index goes: the stream position names the same event,
 *   and every lookup (dedupe, lag, the appender's stream-head probe) goes through the position index.
 * - Plain query columns: they were GENERATED from `entry`, which re-parsed the JSON once per column on
 *   every insert; they become ordinary columns the appender writes as parameters (existing values are
 *   kept: DROP EXPRESSION does not rewrite the table). Verify checks each row's columns against its
 *   entry (trail-columns.ts), so they cannot be edited apart from what the chain covers.
 * - `appended_at` goes: nothing reads it, and the chain did not cover it.
 *
 * Forward-only in spirit: no entry is rewritten, so every existing hash still verifies; rows written
 * before keep item 0 (they are single events). Nothing here is an UPDATE, so the append-only trigger
 * stays quiet.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { quoteIdent, serviceSchema } from '@ekm/event-store';
import { TRAIL_COLUMNS } from './trail-columns';

const GENERATED = TRAIL_COLUMNS.filter((c) => c !== 'source_item');

export class AuditTrailBatchMigration implements MigrationInterface {
  readonly name = 'EkmAuditTrailBatch1767400100000';

  constructor(private readonly service: string) {}

  async up(q: QueryRunner): Promise<void> {
    const s = quoteIdent(serviceSchema(this.service));
    // A constant default adds the column without rewriting the table.
    await q.query(`ALTER TABLE ${s}.trail ADD COLUMN source_item int NOT NULL DEFAULT 0 CHECK (source_item >= 0)`);
    for (const c of GENERATED) await q.query(`ALTER TABLE ${s}.trail ALTER COLUMN ${c} DROP EXPRESSION`);
    await q.query(`ALTER TABLE ${s}.trail DROP COLUMN appended_at`);
    await q.query(`CREATE UNIQUE INDEX trail_source_stream_item ON ${s}.trail (source_service, source_stream_id, source_stream_position, source_item)`);
    await q.query(`DROP INDEX ${s}.trail_source_position`);
    await q.query(`DROP INDEX ${s}.trail_source_event`);
  }

  async down(q: QueryRunner): Promise<void> {
    const s = quoteIdent(serviceSchema(this.service));
    const j = (path: string): string => `(entry::jsonb ${path})`;
    const expr: Record<string, string> = {
      time_ms: `bigint GENERATED ALWAYS AS (${j("->> 'timeMs'")}::bigint) STORED`, category: `text GENERATED ALWAYS AS ${j("->> 'category'")} STORED`,
      action: `text GENERATED ALWAYS AS ${j("->> 'action'")} STORED`, outcome: `text GENERATED ALWAYS AS ${j("->> 'outcome'")} STORED`,
      principal: `text GENERATED ALWAYS AS ${j("-> 'actor' ->> 'principal'")} STORED`, tenant: `text GENERATED ALWAYS AS ${j("->> 'tenant'")} STORED`,
      key_id: `text GENERATED ALWAYS AS ${j("->> 'keyId'")} STORED`, key_version: `int GENERATED ALWAYS AS (${j("->> 'keyVersion'")}::int) STORED`,
      source_service: `text GENERATED ALWAYS AS ${j("-> 'source' ->> 'service'")} STORED`, source_event_id: `text GENERATED ALWAYS AS ${j("-> 'source' ->> 'eventId'")} STORED`,
      source_stream_id: `text GENERATED ALWAYS AS ${j("-> 'source' ->> 'streamId'")} STORED`,
      source_stream_position: `int GENERATED ALWAYS AS (${j("-> 'source' ->> 'streamPosition'")}::int) STORED`,
    };
    await q.query(`DROP INDEX ${s}.trail_source_stream_item`);
    // Dropping the columns drops the indexes on them; they are recreated as the first migration made them.
    for (const c of GENERATED) await q.query(`ALTER TABLE ${s}.trail DROP COLUMN ${c}`);
    await q.query(`ALTER TABLE ${s}.trail DROP COLUMN source_item`);
    for (const c of GENERATED) await q.query(`ALTER TABLE ${s}.trail ADD COLUMN ${c} ${expr[c]}`);
    await q.query(`ALTER TABLE ${s}.trail ADD COLUMN appended_at timestamptz NOT NULL DEFAULT now()`);
    await q.query(`CREATE UNIQUE INDEX trail_source_event ON ${s}.trail (source_service, source_event_id)`);
    await q.query(`CREATE UNIQUE INDEX trail_source_position ON ${s}.trail (source_service, source_stream_id, source_stream_position)`);
    await q.query(`CREATE INDEX trail_key ON ${s}.trail (key_id, leaf_index) WHERE key_id IS NOT NULL`);
    await q.query(`CREATE INDEX trail_principal ON ${s}.trail (principal, leaf_index)`);
    await q.query(`CREATE INDEX trail_tenant ON ${s}.trail (tenant, leaf_index) WHERE tenant IS NOT NULL`);
    await q.query(`CREATE INDEX trail_time ON ${s}.trail (time_ms)`);
  }
}
