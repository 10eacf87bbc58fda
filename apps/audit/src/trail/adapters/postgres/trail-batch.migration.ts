/**
 * Usage records arrive in batches (one `KeyUsageBatchRecorded` event per group commit of the keys
 * service), and each record is its own trail entry. A source event therefore no longer identifies one
 * entry: the identity is (service, event id, item) and the stream position (service, stream, position,
 * item), `item` being the record's index in its batch (0 for every other event). Forward-only:
 * existing rows keep item 0 (they are single events), and the hash chain is untouched (`entry` is
 * not rewritten; `source_item` is a plain column written with the row, the value the entry carries as
 * `source.item`).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { quoteIdent, serviceSchema } from '@ekm/event-store';

export class AuditTrailBatchMigration implements MigrationInterface {
  readonly name = 'EkmAuditTrailBatch1767400100000';

  constructor(private readonly service: string) {}

  async up(q: QueryRunner): Promise<void> {
    const s = quoteIdent(serviceSchema(this.service));
    // A constant default adds the column without rewriting the table (no UPDATE: the append-only trigger stays quiet).
    await q.query(`ALTER TABLE ${s}.trail ADD COLUMN source_item int NOT NULL DEFAULT 0 CHECK (source_item >= 0)`);
    await q.query(`CREATE UNIQUE INDEX trail_source_item ON ${s}.trail (source_service, source_event_id, source_item)`);
    await q.query(`DROP INDEX ${s}.trail_source_event`);
    // Also serves the appender's "last position of this stream" probe (ORDER BY position DESC, item DESC LIMIT 1).
    await q.query(`CREATE UNIQUE INDEX trail_source_stream_item ON ${s}.trail (source_service, source_stream_id, source_stream_position, source_item)`);
    await q.query(`DROP INDEX ${s}.trail_source_position`);
  }

  async down(q: QueryRunner): Promise<void> {
    const s = quoteIdent(serviceSchema(this.service));
    await q.query(`DROP INDEX ${s}.trail_source_stream_item`);
    await q.query(`DROP INDEX ${s}.trail_source_item`);
    await q.query(`CREATE UNIQUE INDEX trail_source_event ON ${s}.trail (source_service, source_event_id)`);
    await q.query(`CREATE UNIQUE INDEX trail_source_position ON ${s}.trail (source_service, source_stream_id, source_stream_position)`);
    await q.query(`ALTER TABLE ${s}.trail DROP COLUMN source_item`);
  }
}
