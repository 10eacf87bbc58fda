/**
 * `root_binding`: which root of trust sealed this schema's wrapped keys, as a fingerprint (never the
 * key). One row, written once by the first start; the app role may read and insert it, never change it.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { quoteIdent, serviceRole, serviceSchema } from '@ekm/event-store';

export class RootBindingMigration implements MigrationInterface {
  readonly name = 'EkmRootBinding1767400000000';

  constructor(private readonly service: string) {}

  async up(q: QueryRunner): Promise<void> {
    const s = quoteIdent(serviceSchema(this.service));
    await q.query(`CREATE TABLE IF NOT EXISTS ${s}.root_binding (
      id boolean PRIMARY KEY DEFAULT true CHECK (id),
      kind text NOT NULL,
      fingerprint text NOT NULL,
      bound_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`GRANT SELECT, INSERT ON ${s}.root_binding TO ${quoteIdent(serviceRole(this.service))}`);
    await q.query(`REVOKE UPDATE, DELETE, TRUNCATE ON ${s}.root_binding FROM ${quoteIdent(serviceRole(this.service))}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS ${quoteIdent(serviceSchema(this.service))}.root_binding`);
  }
}
