/**
 * The policy service's own tables in schema `ekm_policy`, after the event store's migrations: the
 * inline projections of principal and policy streams (rebuildable from the log). Credentials are kept
 * as verifiers (Ed25519 public keys) inside the principal row; no private key is ever stored.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { quoteIdent, serviceSchema } from '@ekm/event-store';

export class AccessSchemaMigration implements MigrationInterface {
  // After EkmEventLog (1767225600000) and EkmOutboxRelay (1767225700000).
  readonly name = 'EkmPolicyAccess1767400000000';

  constructor(private readonly service: string) {}

  async up(q: QueryRunner): Promise<void> {
    const s = quoteIdent(serviceSchema(this.service));
    await q.query(`
      CREATE TABLE ${s}.principals (
        id text PRIMARY KEY,
        tenant text NOT NULL,
        roles jsonb NOT NULL,
        kind text NOT NULL,
        name text NOT NULL,
        status text NOT NULL,
        credentials jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        stream_version int NOT NULL
      )`);
    await q.query(`CREATE INDEX principals_tenant ON ${s}.principals (tenant, id)`);
    await q.query(`
      CREATE TABLE ${s}.policies (
        id text PRIMARY KEY,
        tenant text NOT NULL,
        version int NOT NULL,
        status text NOT NULL,
        document jsonb NULL,
        stream_version int NOT NULL
      )`);
    await q.query(`CREATE INDEX policies_tenant ON ${s}.policies (tenant, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    const s = quoteIdent(serviceSchema(this.service));
    await q.query(`DROP TABLE ${s}.policies, ${s}.principals`);
  }
}
