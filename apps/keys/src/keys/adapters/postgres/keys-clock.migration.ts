/**
 * `clock_offset`: a test-only shift of the keys service's deletion-window clock (see db-clock.ts). Only
 * the admin role can write it; the app role may read it; production ignores it.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { quoteIdent, serviceRole, serviceSchema } from '@ekm/event-store';

export class KeysClockMigration implements MigrationInterface {
  readonly name = 'EkmKeysClock1767300600000';

  constructor(private readonly service: string) {}

  async up(q: QueryRunner): Promise<void> {
    const s = quoteIdent(serviceSchema(this.service));
    await q.query(`CREATE TABLE IF NOT EXISTS ${s}.clock_offset (id boolean PRIMARY KEY DEFAULT true CHECK (id), offset_ms bigint NOT NULL)`);
    await q.query(`REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ${s}.clock_offset FROM ${quoteIdent(serviceRole(this.service))}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS ${quoteIdent(serviceSchema(this.service))}.clock_offset`);
  }
}
