/**
 * EPOCH_STATE_STORE over `epoch_fence`, `epoch_roll_requests` and `key_material.epoch`
 * (EpochsMigration). The roller's lock is a session advisory lock on a client held for the pass.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { quoteIdent, serviceSchema, type TransactionContext } from '@ekm/event-store';
import { PG_POOL } from '@ekm/service-kit';
import { EpochMovedError, type EpochStateStore, type StoredKek, type WrappedKek } from '../../application/epochs/epoch.ports';

/** Advisory lock key of the epoch roller ('ekm-epoch' as an int). */
const ROLLER_LOCK = 0x656b6d65;

type Row = { key_id: string; version: number; material_ref: string; epoch: string; wrapped: Buffer };
const toStored = (r: Row): StoredKek => ({ keyId: r.key_id, version: r.version, materialRef: r.material_ref, epoch: r.epoch, wrapped: r.wrapped });

@Injectable()
export class PgEpochStateStore implements EpochStateStore {
  private readonly s = quoteIdent(serviceSchema('keys'));

  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async fence(): Promise<string> {
    const { rows } = await this.pool.query<{ current: string }>(`SELECT current FROM ${this.s}.epoch_fence`);
    return rows[0]?.current ?? '0';
  }

  // Epoch ids sort in creation order and '0' sorts before every 'e…' id, so "forward" is a string compare.
  async advanceFence(epoch: string): Promise<string> {
    const { rows } = await this.pool.query<{ current: string }>(
      `UPDATE ${this.s}.epoch_fence SET current = GREATEST(current COLLATE "C", $1::text COLLATE "C"), updated_at = now() RETURNING current`, [epoch]);
    return rows[0]!.current;
  }

  async checkFence(tx: TransactionContext, epoch: string): Promise<void> {
    const [row] = await tx.query<{ current: string }>(`SELECT current FROM ${this.s}.epoch_fence FOR SHARE`);
    const current = row?.current ?? '0';
    if (current !== epoch) throw new EpochMovedError(epoch, current);
  }

  async requestRoll(tx: TransactionContext, reason: string, keyId: string): Promise<void> {
    await tx.query(`INSERT INTO ${this.s}.epoch_roll_requests (reason, key_id) VALUES ($1, $2)`, [reason, keyId]);
  }

  async openRequest(): Promise<number | null> {
    const { rows } = await this.pool.query<{ id: string | null }>(`SELECT max(id) AS id FROM ${this.s}.epoch_roll_requests WHERE closed_at IS NULL`);
    return rows[0]?.id == null ? null : Number(rows[0].id);
  }

  async closeRequests(upTo: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ key_id: string }>(
      `UPDATE ${this.s}.epoch_roll_requests SET closed_at = now() WHERE closed_at IS NULL AND id <= $1 RETURNING key_id`, [upTo]);
    return [...new Set(rows.map((r) => r.key_id))].sort();
  }

  async rowsOutside(epoch: string, limit: number, after?: { keyId: string; version: number }): Promise<StoredKek[]> {
    return this.page('epoch <> $1', epoch, limit, after);
  }

  async rowsUnder(epoch: string, limit: number, after?: { keyId: string; version: number }): Promise<StoredKek[]> {
    return this.page('epoch = $1', epoch, limit, after);
  }

  async rewrap(moves: ReadonlyArray<{ keyId: string; version: number; from: string; to: WrappedKek }>): Promise<number> {
    if (moves.length === 0) return 0;
    const { rowCount } = await this.pool.query(
      `UPDATE ${this.s}.key_material m SET wrapped = v.wrapped, epoch = v.epoch
         FROM unnest($1::text[], $2::int[], $3::text[], $4::bytea[], $5::text[]) AS v(key_id, version, from_epoch, wrapped, epoch)
        WHERE m.key_id = v.key_id AND m.version = v.version AND m.epoch = v.from_epoch`,
      [moves.map((m) => m.keyId), moves.map((m) => m.version), moves.map((m) => m.from), moves.map((m) => m.to.wrapped), moves.map((m) => m.to.epoch)],
    );
    return rowCount ?? 0;
  }

  async countByEpoch(): Promise<Record<string, number>> {
    const { rows } = await this.pool.query<{ epoch: string; n: string }>(`SELECT epoch, count(*) AS n FROM ${this.s}.key_material GROUP BY epoch`);
    return Object.fromEntries(rows.map((r) => [r.epoch, Number(r.n)]));
  }

  async tryLock(): Promise<(() => Promise<void>) | null> {
    const client = await this.pool.connect();
    try {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [ROLLER_LOCK]);
      if (!rows[0]?.ok) {
        client.release();
        return null;
      }
    } catch (e) {
      client.release();
      throw e;
    }
    return async () => {
      try {
        await client.query('SELECT pg_advisory_unlock($1)', [ROLLER_LOCK]);
      } finally {
        client.release();
      }
    };
  }

  private async page(where: string, epoch: string, limit: number, after?: { keyId: string; version: number }): Promise<StoredKek[]> {
    const params: unknown[] = [epoch, limit];
    let cursor = '';
    if (after) {
      params.push(after.keyId, after.version);
      cursor = 'AND (key_id, version) > ($3, $4)';
    }
    const { rows } = await this.pool.query<Row>(
      `SELECT key_id, version, material_ref, epoch, wrapped FROM ${this.s}.key_material WHERE ${where} ${cursor} ORDER BY key_id, version LIMIT $2`, params);
    return rows.map(toStored);
  }
}
