/**
 * Pure scheduling rules of the rotation service: when a key is next due, how long a failed item waits,
 * how much of a key's data has been re-wrapped. Times are epoch milliseconds from ONE clock (the
 * database's `clock_now()`); nothing here reads a clock.
 */
import { backoffDelay } from '@ekm/contracts';

export const DAY_MS = 86_400_000;

/** What the scheduler sends to the keys service for one due item. */
export type DueKind = 'ROTATE' | 'DESTROY' | 'EXPIRE_TOKEN';
export const DUE_KINDS: readonly DueKind[] = ['ROTATE', 'DESTROY', 'EXPIRE_TOKEN'];

/**
 * The next rotation slot after the slot `dueMs` was served at `nowMs`: the first `dueMs + k * period`
 * (k >= 1) that lies strictly after `nowMs`. After a short delay that is `dueMs + period` (the cadence
 * does not drift with scheduler latency); after downtime of many periods the missed slots are skipped,
 * so a key is rotated ONCE on catch-up, not once per missed period, and stays on its original cadence.
 */
export function nextDueAfter(dueMs: number, periodDays: number, nowMs: number): number {
  if (!Number.isSafeInteger(periodDays) || periodDays < 1) throw new RangeError(`periodDays must be a positive integer, got ${periodDays}`);
  const period = periodDays * DAY_MS;
  if (nowMs < dueMs) return dueMs + period;
  const k = Math.floor((nowMs - dueMs) / period) + 1;
  return dueMs + k * period;
}

/** Backoff of a failed item: 1 s, 2 s, 4 s ... capped at `maxMs` (default 1 h). One key's failures never block others. */
export function retryDelayMs(attempts: number, opts: { initialMs?: number; maxMs?: number } = {}): number {
  return backoffDelay(attempts, { initialMs: opts.initialMs ?? 1_000, maxMs: opts.maxMs ?? 3_600_000 });
}

/**
 * The idempotency key of one due slot: the same (kind, key, ref, due time) always gives the same
 * request id, so every replica and every retry of that slot is ONE command for the keys service
 * (it derives the command id from `Ekm-Request-Id` and answers a seen command without appending).
 * The caller hashes it when it would exceed the header's 128 characters.
 */
export function slotKey(kind: DueKind, keyId: string, ref: string, dueMs: number): string {
  return `rotation:${kind}:${keyId}:${ref === '' ? '-' : ref}:${dueMs}`;
}

/** Re-wrap progress of one key: how many tracked assets sit on the primary version. */
export interface RewrapProgress {
  readonly keyId: string;
  readonly primaryVersion: number | null;
  readonly totalAssets: number;
  readonly onPrimary: number;
  /** onPrimary / totalAssets, 1 when no asset is tracked. */
  readonly rewrappedShare: number;
  /** Assets per version, highest version first. */
  readonly byVersion: readonly { readonly version: number; readonly assets: number }[];
}

export function rewrapProgress(keyId: string, primaryVersion: number | null, counts: ReadonlyMap<number, number>): RewrapProgress {
  const byVersion = [...counts.entries()].filter(([, n]) => n > 0).sort((a, b) => b[0] - a[0]).map(([version, assets]) => ({ version, assets }));
  const totalAssets = byVersion.reduce((sum, v) => sum + v.assets, 0);
  const onPrimary = primaryVersion === null ? 0 : counts.get(primaryVersion) ?? 0;
  return { keyId, primaryVersion, totalAssets, onPrimary, rewrappedShare: totalAssets === 0 ? 1 : onPrimary / totalAssets, byVersion };
}

/** Usage-record operations that leave a data key (or ciphertext) wrapped under the record's key version. */
export const WRAPPING_OPERATIONS = ['GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'Encrypt', 'ReEncrypt'] as const;

/** An asset named by the encryption context: `asset` is required; tenant falls back to the key's tenant. */
export interface AssetRef {
  readonly tenant: string;
  readonly collection: string;
  readonly asset: string;
}

/** The asset a usage record wrapped, or null when the record does not move an asset (other operation, failure, no `asset`). */
export function assetOfUsage(u: {
  operation?: unknown; outcome?: unknown; keyId?: unknown; keyVersion?: unknown; tenant?: unknown; encryptionContext?: unknown;
}): (AssetRef & { keyId: string; keyVersion: number }) | null {
  if (u.outcome !== 'ALLOWED' || typeof u.operation !== 'string' || !(WRAPPING_OPERATIONS as readonly string[]).includes(u.operation)) return null;
  if (typeof u.keyId !== 'string' || typeof u.keyVersion !== 'number' || !Number.isSafeInteger(u.keyVersion)) return null;
  const ctx = (typeof u.encryptionContext === 'object' && u.encryptionContext !== null ? u.encryptionContext : {}) as Record<string, unknown>;
  const asset = ctx.asset;
  if (typeof asset !== 'string' || asset === '') return null;
  const tenant = typeof ctx.tenant === 'string' ? ctx.tenant : typeof u.tenant === 'string' ? u.tenant : '';
  const collection = typeof ctx.collection === 'string' ? ctx.collection : '';
  return { tenant, collection, asset, keyId: u.keyId, keyVersion: u.keyVersion };
}

/** Usage events of the keys stream: one record per event (older events), or one event per group commit. */
export const USAGE_EVENT = 'KeyUsageRecorded';
export const USAGE_BATCH_EVENT = 'KeyUsageBatchRecorded';

/**
 * The usage records an event carries: `[data]` for a KeyUsageRecorded, `data.records` for a
 * KeyUsageBatchRecorded (each element shaped as a KeyUsageRecorded's data); null when the event is not a
 * usage event at all. A batch whose `records` is not an array carries no record.
 */
export function usageRecordsOf(type: string, data: unknown): readonly unknown[] | null {
  if (type === USAGE_EVENT) return [data];
  if (type !== USAGE_BATCH_EVENT) return null;
  const records = typeof data === 'object' && data !== null ? (data as { records?: unknown }).records : undefined;
  return Array.isArray(records) ? records : [];
}

/** One write to the asset table: the asset, the key version that now wraps it, when and by which operation. */
export interface AssetWrap extends AssetRef {
  readonly keyId: string;
  readonly keyVersion: number;
  readonly wrappedAt: string;
  readonly operation: string;
}

/**
 * The asset writes of `records` in order, one per asset: when a batch wraps one asset twice, the later
 * wrap (by time, then by position in the batch) wins, exactly as applying the records one by one with
 * "last wrap wins by time" would leave it. `fallbackAt` is the event's time for a record without `at`.
 */
export function assetWrapsOf(records: readonly unknown[], fallbackAt: string): AssetWrap[] {
  const byAsset = new Map<string, AssetWrap>();
  for (const r of records) {
    if (typeof r !== 'object' || r === null) continue;
    const a = assetOfUsage(r);
    if (a === null) continue;
    const u = r as { at?: unknown; operation?: unknown };
    const wrap: AssetWrap = { ...a, wrappedAt: typeof u.at === 'string' ? u.at : fallbackAt, operation: String(u.operation) };
    const id = JSON.stringify([a.tenant, a.collection, a.asset]);
    const seen = byAsset.get(id);
    if (seen === undefined || !(Date.parse(seen.wrappedAt) > Date.parse(wrap.wrappedAt))) byAsset.set(id, wrap);
  }
  return [...byAsset.values()];
}
