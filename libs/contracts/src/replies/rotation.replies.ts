/**
 * Reply bodies (the `data` of `{ok:true,data}`) of the rotation service's subjects, as zod schemas. None
 * carries key material: keys are named by id, assets by their caller-chosen names, versions by number.
 */
import { z } from 'zod';
import { ServiceStatusReply } from './status.replies';

const isoTime = z.string().min(1);
const keyId = z.string().min(1);
const count = z.number().int().nonnegative();
const version = z.number().int().positive();

/** How far a key's tracked assets have moved to its primary version. */
export const RewrapProgressReply = z.object({
  keyId,
  primaryVersion: version.nullable(),
  totalAssets: count,
  onPrimary: count,
  /** onPrimary / totalAssets, 1 when no asset is tracked. */
  rewrappedShare: z.number().min(0).max(1),
  /** Assets per version, highest version first. */
  byVersion: z.array(z.object({ version, assets: count }).strict().readonly()).readonly(),
}).strict().readonly();
export type RewrapProgressReply = z.infer<typeof RewrapProgressReply>;

/** One tracked asset (a data key wrapped under a key version). */
export const TrackedAssetReply = z.object({
  tenant: z.string().min(1),
  collection: z.string(),
  asset: z.string(),
  keyVersion: version,
  wrappedAt: isoTime,
}).strict().readonly();
export type TrackedAssetReply = z.infer<typeof TrackedAssetReply>;

/** The scheduler's report; a tenant principal sees only its tenant's keys. */
export const ScheduleStatusReply = z.object({
  /** The scheduler's clock (database time plus any injected offset). */
  now: isoTime,
  trackedKeys: count,
  nextRotations: z.array(z.object({ keyId, nextRotationAt: isoTime, periodDays: z.number().int().positive() }).strict().readonly()).readonly(),
  /** Due but not yet served (the scheduler is behind, or the item is failing). */
  overdue: z.array(z.object({ kind: z.string().min(1), keyId, dueAt: isoTime }).strict().readonly()).readonly(),
  failures: z.array(z.object({
    kind: z.string().min(1), keyId, ref: z.string(), attempts: count, lastError: z.string(), retryAt: isoTime.nullable(),
  }).strict().readonly()).readonly(),
  pendingDeletions: z.array(z.object({ keyId, deletionDueAt: isoTime, liveAssets: count }).strict().readonly()).readonly(),
  pendingImportTokens: z.array(z.object({ keyId, tokenId: z.string().min(1), expiresAt: isoTime }).strict().readonly()).readonly(),
  /** Rotations forced by the keys service before a version reached its AES-GCM budget. */
  budgetRotations: z.array(z.object({ keyId, count, lastAt: isoTime }).strict().readonly()).readonly(),
  /** Keys whose tracked assets are not all on the primary version. */
  rewrap: z.array(RewrapProgressReply).readonly(),
}).strict().readonly();
export type ScheduleStatusReply = z.infer<typeof ScheduleStatusReply>;

/** `ekm.v1.rotation.status`: the service's own status plus the schedule report. */
export const RotationStatusReply = ServiceStatusReply.unwrap().extend({ schedule: ScheduleStatusReply }).strict().readonly();
export type RotationStatusReply = z.infer<typeof RotationStatusReply>;

/** `ekm.v1.rotation.rewrap-status`; `version` only when the request named one. */
export const RewrapStatusReply = RewrapProgressReply.unwrap().extend({
  /** The assets still under the requested version (first `limit`) and their total. */
  version: z.object({ version, total: count, assets: z.array(TrackedAssetReply).readonly() }).strict().readonly().optional(),
}).strict().readonly();
export type RewrapStatusReply = z.infer<typeof RewrapStatusReply>;

/** `ekm.v1.rotation.check-version-retirement`: `allowed` is false while any tracked asset is still under the version(s). */
export const RetirementCheckReply = z.object({
  keyId,
  /** null: every version of the key was checked (DestroyKey). */
  version: version.nullable(),
  liveAssets: count,
  allowed: z.boolean(),
  /** At most five of the live assets. */
  sample: z.array(TrackedAssetReply).readonly(),
}).strict().readonly();
export type RetirementCheckReply = z.infer<typeof RetirementCheckReply>;
