/**
 * `ekm_policy.access_keys`: one row per AWS-style access key. `wrapped_secret` is the secret wrapped
 * under the root of trust (RFC 5649 AES-KWP), written in the transaction that appends AccessKeyCreated
 * and set to NULL in the one that appends AccessKeyDeleted (the secret is then gone; the row stays as a
 * tombstone so the id is never reissued). The secret is never in the event log.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { quoteIdent, serviceRole, serviceSchema } from '@ekm/event-store';

export class AccessKeySchemaMigration implements MigrationInterface {
  // After EkmPolicyAccess1767400000000.
  readonly name = 'EkmPolicyAccessKeys1767500000000';

  constructor(private readonly service: string) {}

  async up(q: QueryRunner): Promise<void> {
    const s = quoteIdent(serviceSchema(this.service));
    await q.query(`
      CREATE TABLE ${s}.access_keys (
        access_key_id text PRIMARY KEY,
        principal_id text NOT NULL,
        tenant text NOT NULL,
        wrapped_secret bytea NULL,
        created_at timestamptz NOT NULL,
        deleted_at timestamptz NULL,
        CHECK ((deleted_at IS NULL) = (wrapped_secret IS NOT NULL))
      )`);
    await q.query(`CREATE INDEX access_keys_principal ON ${s}.access_keys (principal_id) WHERE deleted_at IS NULL`);
    // No DELETE: a deleted key stays as a tombstone (its id is never reissued).
    await q.query(`GRANT SELECT, INSERT, UPDATE ON ${s}.access_keys TO ${quoteIdent(serviceRole(this.service))}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ${quoteIdent(serviceSchema(this.service))}.access_keys`);
  }
}
