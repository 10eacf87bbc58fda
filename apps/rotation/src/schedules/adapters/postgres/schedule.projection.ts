/**
 * The schedule projection: applies one relayed key event (an `EventEnvelope` from EKM_KEYS_EVENTS) to
 * the rotation tables, in the caller's transaction. Idempotent and order-tolerant by key-stream
 * position: every column group moves only for an event newer than the one that last set it, rows keyed
 * by version/token/rotation are inserted once. Usage records (one per KeyUsageRecorded, many per
 * KeyUsageBatchRecorded) feed the asset table (last wrap wins by time); {@link ScheduleProjection.assetWritesOf}
 * tells, before any transaction, whether a usage event writes anything at all.
 */
import type { EventEnvelope, TransactionContext } from '@ekm/event-store';
import { assetWrapsOf, usageRecordsOf, type AssetWrap } from '../../domain/schedule.rules';

/** What the consumer publishes after the commit: a re-wrap notice for the key's tenant. */
export interface RotatedNotice {
  readonly eventId: string;
  readonly keyId: string;
  readonly tenant: string;
  readonly fromVersion: number;
  readonly toVersion: number;
  readonly reason: string;
  readonly rotatedAt: string;
}

/** The rotation for which a notice cannot be built yet (KeyCreated not applied): retry later. */
export class TenantNotKnownYetError extends Error {
  override readonly name = 'TenantNotKnownYetError';
  readonly retriable = true;
}

type Data = Record<string, unknown>;
const str = (d: Data, k: string): string => String(d[k]);
const num = (d: Data, k: string): number => Number(d[k]);

export class ScheduleProjection {
  constructor(private readonly schema: string) {}

  /**
   * The asset writes of a usage event (KeyUsageRecorded or KeyUsageBatchRecorded), null for any other
   * event. Pure: an empty list means the event needs no transaction (most records wrap no named asset).
   */
  assetWritesOf(e: EventEnvelope): AssetWrap[] | null {
    const records = usageRecordsOf(e.type, e.data);
    return records === null ? null : assetWrapsOf(records, e.recordedAt);
  }

  /** Applies `e`; returns the re-wrap notice to publish when `e` is a KeyRotated. */
  async apply(tx: TransactionContext, e: EventEnvelope): Promise<RotatedNotice | null> {
    const d = (e.data ?? {}) as Data;
    const wraps = this.assetWritesOf(e);
    if (wraps !== null) {
      await this.applyAssets(tx, wraps);
      return null;
    }
    if (!e.streamId.startsWith('key-') || typeof d.keyId !== 'string') return null;
    const s = this.schema;
    const keyId = d.keyId;
    const pos = e.streamPosition;
    await tx.query(`INSERT INTO ${s}.schedule_keys (key_id) VALUES ($1) ON CONFLICT DO NOTHING`, [keyId]);
    await tx.query(`UPDATE ${s}.schedule_keys SET stream_version = greatest(stream_version, $2), updated_at = now() WHERE key_id = $1`, [keyId, pos]);
    const setPrimary = (version: number) =>
      tx.query(`UPDATE ${s}.schedule_keys SET primary_version = $2, primary_pos = $3 WHERE key_id = $1 AND primary_pos < $3`, [keyId, version, pos]);
    const addVersion = (version: number) =>
      tx.query(`INSERT INTO ${s}.key_versions (key_id, version, status, pos) VALUES ($1, $2, 'Enabled', $3) ON CONFLICT DO NOTHING`, [keyId, version, pos]);
    const versionStatus = (version: number, status: string) =>
      tx.query(`INSERT INTO ${s}.key_versions (key_id, version, status, pos) VALUES ($1, $2, $3, $4)
        ON CONFLICT (key_id, version) DO UPDATE SET status = excluded.status, pos = excluded.pos WHERE key_versions.pos < excluded.pos`, [keyId, version, status, pos]);
    const tokenState = (tokenId: string, state: string) =>
      tx.query(`INSERT INTO ${s}.import_tokens (token_id, key_id, state) VALUES ($1, $2, $3)
        ON CONFLICT (token_id) DO UPDATE SET state = excluded.state WHERE import_tokens.state = 'Issued'`, [tokenId, keyId, state]);
    switch (e.type) {
      case 'KeyCreated':
        await tx.query(`UPDATE ${s}.schedule_keys SET tenant = $2 WHERE key_id = $1`, [keyId, str(d, 'tenant')]);
        return null;
      case 'KeyVersionAdded':
        await addVersion(num(d, 'version'));
        if (d.isPrimary === true) await setPrimary(num(d, 'version'));
        return null;
      case 'KeyMaterialImported':
        await addVersion(num(d, 'version'));
        if (d.isPrimary === true) await setPrimary(num(d, 'version'));
        await tokenState(str(d, 'tokenId'), 'Consumed');
        return null;
      case 'PrimaryVersionChanged':
        await setPrimary(num(d, 'to'));
        return null;
      case 'KeyVersionDisabled': await versionStatus(num(d, 'version'), 'Disabled'); return null;
      case 'KeyVersionEnabled': await versionStatus(num(d, 'version'), 'Enabled'); return null;
      case 'KeyVersionDestroyed': await versionStatus(num(d, 'version'), 'Destroyed'); return null;
      case 'KeyRotationEnabled':
        await tx.query(`UPDATE ${s}.schedule_keys SET rotation_period_days = $2, next_rotation_at = $3, rotation_pos = $4,
          rotate_attempts = 0, rotate_retry_at = NULL, rotate_error = NULL WHERE key_id = $1 AND rotation_pos < $4`, [keyId, num(d, 'periodDays'), str(d, 'nextRotationAt'), pos]);
        return null;
      case 'KeyRotationDisabled':
        await tx.query(`UPDATE ${s}.schedule_keys SET rotation_period_days = NULL, next_rotation_at = NULL, rotation_pos = $2,
          rotate_attempts = 0, rotate_retry_at = NULL, rotate_error = NULL WHERE key_id = $1 AND rotation_pos < $2`, [keyId, pos]);
        return null;
      case 'KeyRotated':
        return this.applyRotated(tx, e, d, setPrimary);
      case 'KeyDeletionScheduled':
        await tx.query(`UPDATE ${s}.schedule_keys SET deletion_due_at = $2, deletion_pos = $3, destroy_attempts = 0, destroy_retry_at = NULL, destroy_error = NULL
          WHERE key_id = $1 AND deletion_pos < $3`, [keyId, str(d, 'deletionDate'), pos]);
        return null;
      case 'KeyDeletionCancelled':
        await tx.query(`UPDATE ${s}.schedule_keys SET deletion_due_at = NULL, deletion_pos = $2, destroy_attempts = 0, destroy_retry_at = NULL, destroy_error = NULL
          WHERE key_id = $1 AND deletion_pos < $2`, [keyId, pos]);
        return null;
      case 'KeyDestroyed':
        // Terminal: no later event can bring the key back, so no position guard is needed.
        await tx.query(`UPDATE ${s}.schedule_keys SET destroyed_at = coalesce(destroyed_at, $2), deletion_due_at = NULL, next_rotation_at = NULL,
          deletion_pos = greatest(deletion_pos, $3), rotation_pos = greatest(rotation_pos, $3) WHERE key_id = $1`, [keyId, str(d, 'destroyedAt'), pos]);
        await tx.query(`UPDATE ${s}.import_tokens SET state = 'Expired' WHERE key_id = $1 AND state = 'Issued'`, [keyId]);
        return null;
      case 'ImportParametersIssued':
        await tx.query(`INSERT INTO ${s}.import_tokens (token_id, key_id, expires_at, state) VALUES ($1, $2, $3, 'Issued')
          ON CONFLICT (token_id) DO UPDATE SET expires_at = excluded.expires_at`, [str(d, 'tokenId'), keyId, str(d, 'expiresAt')]);
        return null;
      case 'ImportTokenExpired':
        await tokenState(str(d, 'tokenId'), 'Expired');
        return null;
      default:
        return null;
    }
  }

  /**
   * A scheduled rotation was already advanced by the scheduler in its claim transaction: keep the later
   * of the two next-due times. Any other rotation restarts the period as the keys service computed it.
   */
  private async applyRotated(tx: TransactionContext, e: EventEnvelope, d: Data, setPrimary: (v: number) => Promise<unknown>): Promise<RotatedNotice> {
    const s = this.schema;
    const keyId = str(d, 'keyId');
    const reason = str(d, 'reason');
    const next = d.nextRotationAt === null || d.nextRotationAt === undefined ? null : str(d, 'nextRotationAt');
    await tx.query(`INSERT INTO ${s}.key_rotations (key_id, to_version, from_version, reason, rotated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
      [keyId, num(d, 'to'), num(d, 'from'), reason, str(d, 'rotatedAt')]);
    await setPrimary(num(d, 'to'));
    // A scheduled rotation whose slot the scheduler did not advance (it crashed or lost its lease after
    // sending) is advanced here exactly as the scheduler would (nextDueAfter, on the rotation clock), so
    // the served slot is never due again under a new idempotency key. But when the event names the slot
    // it served ($5, from its request id) and the schedule already stands past that slot, the event is
    // late (applied after the NEXT slot fell due): that next slot was never served and must stay due.
    const served = scheduledSlotOf(e, keyId);
    await tx.query(`UPDATE ${s}.schedule_keys SET rotation_pos = $2,
        next_rotation_at = CASE
          WHEN $3::timestamptz IS NULL THEN NULL
          WHEN NOT $4 THEN $3::timestamptz
          WHEN next_rotation_at IS NULL OR rotation_period_days IS NULL THEN $3::timestamptz
          WHEN $5::timestamptz IS NOT NULL AND next_rotation_at > $5::timestamptz THEN next_rotation_at
          WHEN next_rotation_at <= ${s}.clock_now() THEN greatest($3::timestamptz, next_rotation_at + make_interval(days => rotation_period_days *
            (floor(extract(epoch from (${s}.clock_now() - next_rotation_at)) / (rotation_period_days * 86400.0))::int + 1)))
          ELSE greatest(next_rotation_at, $3::timestamptz) END
      WHERE key_id = $1 AND rotation_pos < $2`, [keyId, e.streamPosition, next, reason === 'SCHEDULED', served]);
    const rows = await tx.query<{ tenant: string | null }>(`SELECT tenant FROM ${s}.schedule_keys WHERE key_id = $1`, [keyId]);
    const tenant = rows[0]?.tenant ?? null;
    if (tenant === null) throw new TenantNotKnownYetError(`KeyRotated of key ${keyId} before its KeyCreated was applied`);
    return { eventId: e.eventId, keyId, tenant, fromVersion: num(d, 'from'), toVersion: num(d, 'to'), reason, rotatedAt: str(d, 'rotatedAt') };
  }

  /**
   * All asset writes in one statement. `wraps` holds one write per asset (assetWrapsOf), so no row is
   * touched twice; a redelivery writes the same values again (the time guard keeps a newer wrap).
   */
  async applyAssets(tx: TransactionContext, wraps: readonly AssetWrap[]): Promise<void> {
    if (wraps.length === 0) return;
    const col = <K extends keyof AssetWrap>(k: K): AssetWrap[K][] => wraps.map((w) => w[k]);
    await tx.query(`INSERT INTO ${this.schema}.assets (tenant, collection, asset, key_id, key_version, wrapped_at, operation)
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::timestamptz[], $7::text[])
      ON CONFLICT (tenant, collection, asset) DO UPDATE SET key_id = excluded.key_id, key_version = excluded.key_version, wrapped_at = excluded.wrapped_at, operation = excluded.operation
      WHERE assets.wrapped_at <= excluded.wrapped_at`,
    [col('tenant'), col('collection'), col('asset'), col('keyId'), col('keyVersion'), col('wrappedAt'), col('operation')]);
  }
}

/**
 * The due slot a SCHEDULED rotation served, from its request id (`metadata.correlationId`, the scheduler's
 * `slotKey`: `rotation:ROTATE:<keyId>:-:<dueMs>`); null when the id is not one (a manual rotation, or
 * an id the scheduler had to hash because it was over 128 characters).
 */
export function scheduledSlotOf(e: Pick<EventEnvelope, 'meta'>, keyId: string): string | null {
  const id = (e.meta as { correlationId?: unknown } | undefined)?.correlationId;
  if (typeof id !== 'string') return null;
  const prefix = `rotation:ROTATE:${keyId}:-:`;
  if (!id.startsWith(prefix)) return null;
  const ms = id.slice(prefix.length);
  if (!/^\d{1,15}$/.test(ms)) return null;
  return new Date(Number(ms)).toISOString();
}
