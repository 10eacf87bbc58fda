/**
 * Domain rejection -> wire code: the ONE exhaustive table for the whole key service (lifecycle and data
 * plane both reply through it, so the same rejection never gets two codes). A Record, so a new
 * rejection code fails to compile until it is mapped.
 */
import { BusErrorCode } from '@ekm/contracts';
import type { KeyRejectionCode } from '../domain';

export const REJECTION_TO_BUS: Readonly<Record<KeyRejectionCode, BusErrorCode>> = {
  KEY_NOT_FOUND: BusErrorCode.KeyNotFound,
  KEY_ALREADY_EXISTS: BusErrorCode.Conflict,
  INVALID_KEY_STATE: BusErrorCode.KeyNotActive,
  INVALID_ARGUMENT: BusErrorCode.Validation,
  VERSION_NOT_FOUND: BusErrorCode.VersionNotFound,
  VERSION_DISABLED: BusErrorCode.KeyNotActive,
  VERSION_DESTROYED: BusErrorCode.KeyNotActive,
  VERSION_NOT_DISABLED: BusErrorCode.KeyNotActive,
  PRIMARY_VERSION_CANNOT_BE_DISABLED: BusErrorCode.PrimaryVersionLocked,
  PRIMARY_VERSION_CANNOT_BE_DESTROYED: BusErrorCode.PrimaryVersionLocked,
  DELETION_WINDOW_OUT_OF_RANGE: BusErrorCode.Validation,
  // The key is in PendingDeletion but its date has not come: a state that forbids DestroyKey for now.
  DELETION_WINDOW_NOT_ELAPSED: BusErrorCode.KeyNotActive,
  INVALID_ALIAS: BusErrorCode.Validation,
  ALIAS_ALREADY_EXISTS: BusErrorCode.Conflict,
  ALIAS_NOT_FOUND: BusErrorCode.NotFound,
  INVALID_TAG: BusErrorCode.Validation,
  ROTATION_PERIOD_OUT_OF_RANGE: BusErrorCode.Validation,
  UNSUPPORTED_FOR_SPEC: BusErrorCode.Unsupported,
  ORIGIN_MISMATCH: BusErrorCode.Unsupported,
  IMPORT_TOKEN_INVALID: BusErrorCode.ImportTokenInvalid,
  IMPORT_TOKEN_EXPIRED: BusErrorCode.ImportTokenInvalid,
  IMPORT_TOKEN_USED: BusErrorCode.ImportTokenInvalid,
  CONTEXT_MISMATCH: BusErrorCode.ContextMismatch,
  VERSION_COMPROMISED: BusErrorCode.KeyNotActive,
  PRIMARY_VERSION_CANNOT_BE_COMPROMISED: BusErrorCode.PrimaryVersionLocked,
};
