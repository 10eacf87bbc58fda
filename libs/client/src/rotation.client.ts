/**
 * Typed API of the rotation service (`ekm.v1.rotation.*`): the schedule report and re-wrap tracking.
 * Reads only; every call can fail with the transport codes `EKM_TIMEOUT`, `EKM_UNAVAILABLE` (retried
 * automatically), `EKM_VALIDATION` and `EKM_UNAUTHENTICATED`.
 */
import type {
  RetirementCheckReply, RewrapProgressReply, RewrapStatusReply, RotationStatusReply, ScheduleStatusReply, TrackedAssetReply,
} from '@ekm/contracts';
import type { Caller } from './keys.client';
import type { CallOptions } from './ekm-client';
import { send, type RequestBody } from './wire-contract';

/** Re-wrap progress of one key: tracked assets (by encryption context tenant/collection/asset) per version. */
export type RewrapProgress = RewrapProgressReply;
/** One asset whose data key was last wrapped under a given version. */
export type TrackedAsset = TrackedAssetReply;
/** Re-wrap progress of one key (version): the assets still holding data keys under old versions. */
export type RewrapStatus = RewrapStatusReply;
/** The schedule part of `ekm.v1.rotation.status` (times ISO-8601 on the scheduler's database clock). */
export type RotationScheduleStatus = ScheduleStatusReply;
/** The rotation service's view: schedules, overdue rotations, failures, re-wrap progress. */
export type RotationStatus = RotationStatusReply;
/** The rotation service's answer to {@link RotationClient.checkVersionRetirement}. */
export type VersionRetirementCheck = RetirementCheckReply;
/** Input of {@link RotationClient.status}: `limit` per list (default 50). */
export type RotationStatusInput = RequestBody<'rotation', 'status'>;
/** Input of {@link RotationClient.rewrapStatus}. */
export type RewrapStatusInput = RequestBody<'rotation', 'rewrap-status'>;
/** Input of {@link RotationClient.checkVersionRetirement}; without `version`, every version of the key. */
export type RetirementCheckInput = RequestBody<'rotation', 'check-version-retirement'>;

/** Client of the rotation service (`ekm.v1.rotation.*`): status and re-wrap tracking. Errors: `EkmError` (`EKM_VALIDATION`, `EKM_KEY_NOT_FOUND`, `EKM_UNAVAILABLE`, `EKM_TIMEOUT`). */
export class RotationClient {
  constructor(private readonly caller: Caller) {}

  /** Next rotations, overdue items, failures (with attempts and next retry), pending deletions, re-wrap progress. `limit` per list (default 50). */
  status(input: RotationStatusInput = {}, opts?: CallOptions): Promise<RotationStatus> {
    return send(this.caller, 'rotation', 'status', input, opts);
  }

  /**
   * Re-wrap progress of a key; with `version`, the assets still under that version (first `limit`).
   * Errors: `EKM_KEY_NOT_FOUND` (no event of the key reached the rotation service yet).
   */
  rewrapStatus(input: RewrapStatusInput, opts?: CallOptions): Promise<RewrapStatus> {
    return send(this.caller, 'rotation', 'rewrap-status', input, opts);
  }

  /**
   * Whether `version` of `keyId` may be retired: `allowed` is false while tracked assets still hold data
   * keys under it (`liveAssets`, first few in `sample`). Asked by the keys service before it disables or
   * destroys a version. Errors: `EKM_VALIDATION`.
   */
  checkVersionRetirement(input: RetirementCheckInput, opts?: CallOptions): Promise<VersionRetirementCheck> {
    return send(this.caller, 'rotation', 'check-version-retirement', input, opts);
  }
}
