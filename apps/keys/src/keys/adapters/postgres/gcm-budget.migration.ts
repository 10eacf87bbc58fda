/**
 * `gcm_budget`: AES-GCM invocations reserved per KEK version (the 2^32 random-IV budget, NIST SP 800-38D). Outside the event log on
 * purpose: one row update per block of encryptions, not an event per call. Rows only grow; a crash
 * skips the rest of a reserved block and never hands a number out twice.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { quoteIdent, serviceRole, serviceSchema } from '@ekm/event-store';

export class GcmBudgetMigration implements MigrationInterface {
  // After the event log (1767225600000) and the relay (1767225700000): default privileges then grant the
  // app role SELECT/INSERT/UPDATE/DELETE; DELETE is revoked below (a counter must never go back).
  readonly name = 'EkmKeysGcmBudget1767300500000';

  constructor(private readonly service: string) {}

  async up(q: QueryRunner): Promise<void> {
    const s = quoteIdent(serviceSchema(this.service));
    await q.query(`CREATE TABLE IF NOT EXISTS ${s}.gcm_budget (
      key_id text NOT NULL,
      version int NOT NULL CHECK (version >= 1),
      reserved bigint NOT NULL CHECK (reserved >= 0),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (key_id, version)
    )`);
    await q.query(`REVOKE DELETE, TRUNCATE ON ${s}.gcm_budget FROM ${quoteIdent(serviceRole(this.service))}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS ${quoteIdent(serviceSchema(this.service))}.gcm_budget`);
  }
}
