/**
 * Claims and settles due items in Postgres. A claim is a row lock (`FOR UPDATE SKIP LOCKED`) held by
 * the claiming transaction while the commands are in flight; the transaction's
 * `idle_in_transaction_session_timeout` is the lease: a replica that stops talking to Postgres
 * (SIGSTOP, partition) for longer is cut off by the server, its locks go to the other replicas, and
 * whatever it commits later fails. Due-ness is read from `clock_now()` (the database's clock).
 */
import type { PoolClient } from 'pg';
import type { DueKind } from '../../domain/schedule.rules';

/** One claimed item. `dueMs` is the slot; `ref` is the token id for EXPIRE_TOKEN, '' otherwise. */
export interface DueItem {
  readonly kind: DueKind;
  readonly keyId: string;
  readonly ref: string;
  readonly dueMs: number;
  readonly nowMs: number;
  readonly periodDays: number | null;
  readonly streamVersion: number;
  readonly attempts: number;
}

interface Row { key_id: string; ref: string; due_ms: number; now_ms: number; period: number | null; stream_version: number; attempts: number }

export class DueWorkStore {
  constructor(private readonly schema: string) {}

  async claim(c: PoolClient, kind: DueKind, limit: number): Promise<DueItem[]> {
    const s = this.schema;
    const ms = (col: string) => `round(extract(epoch from ${col}) * 1000)::float8`;
    const sql = {
      ROTATE: `SELECT key_id, '' AS ref, ${ms('next_rotation_at')} AS due_ms, ${ms(`${s}.clock_now()`)} AS now_ms, rotation_period_days AS period,
          stream_version, rotate_attempts AS attempts
        FROM ${s}.schedule_keys
        WHERE next_rotation_at <= ${s}.clock_now() AND destroyed_at IS NULL AND deletion_due_at IS NULL AND rotation_period_days IS NOT NULL
          AND (rotate_retry_at IS NULL OR rotate_retry_at <= ${s}.clock_now())
        ORDER BY next_rotation_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
      DESTROY: `SELECT key_id, '' AS ref, ${ms('deletion_due_at')} AS due_ms, ${ms(`${s}.clock_now()`)} AS now_ms, NULL::int AS period,
          stream_version, destroy_attempts AS attempts
        FROM ${s}.schedule_keys
        WHERE deletion_due_at <= ${s}.clock_now() AND destroyed_at IS NULL AND (destroy_retry_at IS NULL OR destroy_retry_at <= ${s}.clock_now())
        ORDER BY deletion_due_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
      EXPIRE_TOKEN: `SELECT key_id, token_id AS ref, ${ms('expires_at')} AS due_ms, ${ms(`${s}.clock_now()`)} AS now_ms, NULL::int AS period,
          0 AS stream_version, attempts
        FROM ${s}.import_tokens
        WHERE state = 'Issued' AND expires_at <= ${s}.clock_now() AND (retry_at IS NULL OR retry_at <= ${s}.clock_now())
        ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
    }[kind];
    const { rows } = await c.query<Row>(sql, [limit]);
    return rows.map((r) => ({
      kind, keyId: r.key_id, ref: r.ref, dueMs: Number(r.due_ms), nowMs: Number(r.now_ms), periodDays: r.period === null ? null : Number(r.period),
      streamVersion: Number(r.stream_version), attempts: Number(r.attempts),
    }));
  }

  /** The slot was served: advance (ROTATE to `nextDueMs`) or close the item, and record the execution. */
  async succeeded(c: PoolClient, item: DueItem, requestId: string, replica: string, nextDueMs: number | null): Promise<void> {
    const s = this.schema;
    if (item.kind === 'ROTATE') {
      await c.query(`UPDATE ${s}.schedule_keys SET next_rotation_at = to_timestamp($2::float8 / 1000), rotate_attempts = 0, rotate_retry_at = NULL, rotate_error = NULL, updated_at = now()
        WHERE key_id = $1`, [item.keyId, nextDueMs]);
    } else if (item.kind === 'DESTROY') {
      await c.query(`UPDATE ${s}.schedule_keys SET deletion_due_at = NULL, destroyed_at = coalesce(destroyed_at, ${s}.clock_now()), destroy_attempts = 0, destroy_retry_at = NULL,
        destroy_error = NULL, next_rotation_at = NULL, updated_at = now() WHERE key_id = $1`, [item.keyId]);
    } else {
      await c.query(`UPDATE ${s}.import_tokens SET state = 'Expired', attempts = 0, retry_at = NULL, last_error = NULL WHERE token_id = $1`, [item.ref]);
    }
    await c.query(`INSERT INTO ${s}.executions (key_id, kind, ref, due_at, request_id, executed_at, replica)
      VALUES ($1, $2, $3, to_timestamp($4::float8 / 1000), $5, ${s}.clock_now(), $6) ON CONFLICT DO NOTHING`, [item.keyId, item.kind, item.ref, item.dueMs, requestId, replica]);
  }

  /** The command failed: count it, keep the slot, retry after `delayMs`; other items are unaffected. */
  async failed(c: PoolClient, item: DueItem, error: string, delayMs: number): Promise<void> {
    const s = this.schema;
    const sql = {
      ROTATE: `UPDATE ${s}.schedule_keys SET rotate_attempts = rotate_attempts + 1, rotate_error = $2, rotate_retry_at = ${s}.clock_now() + make_interval(secs => $3::float8 / 1000) WHERE key_id = $1`,
      DESTROY: `UPDATE ${s}.schedule_keys SET destroy_attempts = destroy_attempts + 1, destroy_error = $2, destroy_retry_at = ${s}.clock_now() + make_interval(secs => $3::float8 / 1000) WHERE key_id = $1`,
      EXPIRE_TOKEN: `UPDATE ${s}.import_tokens SET attempts = attempts + 1, last_error = $2, retry_at = ${s}.clock_now() + make_interval(secs => $3::float8 / 1000) WHERE token_id = $1`,
    }[item.kind];
    await c.query(sql, [item.kind === 'EXPIRE_TOKEN' ? item.ref : item.keyId, error.slice(0, 500), delayMs]);
  }
}
