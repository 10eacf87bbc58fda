/**
 * `unseal_verifiers`: the verifier of a tenant-held unseal secret, one row per TenantSealed event that
 * set one (keyed by the event's stream position). Outside the event log because events are published
 * on the bus and copied into the audit trail; a verifier must reach neither. The app role may only
 * read and insert: a seal's verifier never changes.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { quoteIdent, serviceRole, serviceSchema } from '@ekm/event-store';

export class TenantSealMigration implements MigrationInterface {
  readonly name = 'EkmKeysTenantSeal1767300700000';

  constructor(private readonly service: string) {}

  async up(q: QueryRunner): Promise<void> {
    const s = quoteIdent(serviceSchema(this.service));
    await q.query(`CREATE TABLE IF NOT EXISTS ${s}.unseal_verifiers (
      tenant text NOT NULL,
      seal_position integer NOT NULL,
      scheme text NOT NULL,
      salt text NOT NULL,
      hash text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant, seal_position))`);
    await q.query(`REVOKE UPDATE, DELETE, TRUNCATE ON ${s}.unseal_verifiers FROM ${quoteIdent(serviceRole(this.service))}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS ${quoteIdent(serviceSchema(this.service))}.unseal_verifiers`);
  }
}
