/**
 * Epoch keys on the keys side:
 * - `key_material.epoch`: the epoch key that wraps the row. Existing rows are `'0'`: wrapped directly
 *   under the root key, as before epochs existed; the first epoch roll re-wraps them.
 * - `epoch_fence`: one row naming the epoch every new wrap must use. Writers read it FOR SHARE in the
 *   transaction that stores material; the roller's UPDATE waits for them, so once it commits no row
 *   under the old epoch can still appear.
 * - `epoch_roll_requests`: written in the transaction that destroys material; the roller closes them.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { quoteIdent, serviceSchema } from '@ekm/event-store';

export class EpochsMigration implements MigrationInterface {
  readonly name = 'EkmKeysEpochs1767301000000';

  constructor(private readonly service: string) {}

  async up(q: QueryRunner): Promise<void> {
    const s = quoteIdent(serviceSchema(this.service));
    await q.query(`ALTER TABLE ${s}.key_material ADD COLUMN IF NOT EXISTS epoch text NOT NULL DEFAULT '0'`);
    await q.query(`CREATE INDEX IF NOT EXISTS key_material_epoch ON ${s}.key_material (epoch, key_id, version)`);
    await q.query(`CREATE TABLE IF NOT EXISTS ${s}.epoch_fence (
      singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
      current text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`INSERT INTO ${s}.epoch_fence (singleton, current) VALUES (true, '0') ON CONFLICT DO NOTHING`);
    await q.query(`CREATE TABLE IF NOT EXISTS ${s}.epoch_roll_requests (
      id bigserial PRIMARY KEY,
      reason text NOT NULL,
      key_id text NOT NULL,
      requested_at timestamptz NOT NULL DEFAULT now(),
      closed_at timestamptz NULL
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    const s = quoteIdent(serviceSchema(this.service));
    await q.query(`DROP TABLE IF EXISTS ${s}.epoch_roll_requests, ${s}.epoch_fence`);
    await q.query(`ALTER TABLE ${s}.key_material DROP COLUMN IF EXISTS epoch`);
  }
}
