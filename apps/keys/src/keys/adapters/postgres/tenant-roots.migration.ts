/**
 * Tenant root keys on the keys side:
 * - `key_material.tenant_root`: the tenant whose root key wraps the row's material inside the epoch
 *   layer. NULL on rows written before tenant roots: the epoch layer alone opens them, as before.
 * - A tenant's root itself is a `key_material` row with key id `tenant-root:<tenant>` (so the epoch
 *   roller and the forward ledger carry it like any KEK).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { quoteIdent, serviceSchema } from '@ekm/event-store';

export class TenantRootsMigration implements MigrationInterface {
  // After EkmKeysEpochs1767301000000.
  readonly name = 'EkmKeysTenantRoots1767302000000';

  constructor(private readonly service: string) {}

  async up(q: QueryRunner): Promise<void> {
    const s = quoteIdent(serviceSchema(this.service));
    await q.query(`ALTER TABLE ${s}.key_material ADD COLUMN IF NOT EXISTS tenant_root text NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    const s = quoteIdent(serviceSchema(this.service));
    await q.query(`ALTER TABLE ${s}.key_material DROP COLUMN IF EXISTS tenant_root`);
  }
}
