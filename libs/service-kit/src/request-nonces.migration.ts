/** The shared replay guard's table in every service schema (see postgres-nonce-store.ts). */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { serviceSchema } from '@ekm/event-store';
import { requestNoncesSql } from './postgres-nonce-store';

export class RequestNoncesMigration implements MigrationInterface {
  // After every other migration of the schema (so it runs last in any order): the schema's default privileges
  // give the app role SELECT/INSERT/UPDATE/DELETE on this table.
  readonly name = 'EkmRequestNonces1767900000000';

  constructor(private readonly service: string) {}

  async up(q: QueryRunner): Promise<void> {
    await q.query(requestNoncesSql(serviceSchema(this.service)));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS "${serviceSchema(this.service)}".request_nonces`);
  }
}
