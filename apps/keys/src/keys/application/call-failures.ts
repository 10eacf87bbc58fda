/**
 * Why a keys-service call failed, as plain data, and the ONE classification of the whole service: thrown
 * errors → CallFailure (`classify`), CallFailure → wire code and message (`toFailReply`). Lifecycle and
 * data-plane calls both reply through it, so one error never gets two codes. Messages name rules and
 * ids, never material, plaintext, blobs or context values.
 */
import { BusErrorCode, fail, type FailReply, type ReplyError } from '@ekm/contracts';
import {
  EncryptionContextInvalidError, ImportMaterialInvalidError, InvalidCiphertextError, RootKeyUnavailableError, RootOperationFailedError, UnwrapFailedError,
} from '@ekm/crypto';
import { ConcurrencyConflictError } from '@ekm/event-store';
import { describeRejection, type KeyRejection } from '../domain';
import { MaterialMissingError } from './crypto/crypto.ports';
import { isDatabaseUnavailable } from './database-unavailable';
import { DependencyUnavailableError } from './dependency-unavailable';
import { MaterialEpochDestroyedError } from './epochs/epoch.ports';
import { ExternalEndpointNotAllowedError, ExternalKeyUnavailableError, type ExternalKeyReason } from './tenant-roots/tenant-root.ports';
import { TenantRootPayloadInvalidError } from './tenant-roots/tenant-root.payload';
import { RequestIdReusedError, StaleExpectedVersionError } from './handle-key-command';
import { AliasTakenError, ImportTokenRaceError, InvalidCursorError } from './key-store.errors';
import { REJECTION_TO_BUS } from './rejection-codes';
import { AuditUnavailableError, UsageRecordRefusedError } from './usage-recorder';

export type CallFailure =
  /** A domain rule refused (state, usage/spec, purpose binding, version). */
  | { readonly kind: 'REJECTED'; readonly rejection: KeyRejection }
  /** keyId or alias that names no key (for decrypt: the key id given by the caller, not the blob's). */
  | { readonly kind: 'KEY_NOT_FOUND'; readonly keyRef: string }
  /**
   * Any ciphertext problem: bad base64, parse failure, authentication failure, a blob naming an unknown
   * key or version, or a blob of another key than the keyId given. No detail: it would be an oracle.
   */
  | { readonly kind: 'INVALID_CIPHERTEXT' }
  /** The encryption context is not a flat string map within limits (names the key, never a value). */
  | { readonly kind: 'INVALID_CONTEXT'; readonly field: string; readonly message: string }
  /** A request field the store or the root refused (a list cursor, imported material). */
  | { readonly kind: 'INVALID_REQUEST'; readonly message: string }
  | { readonly kind: 'FORBIDDEN'; readonly keyId?: string; readonly action: string; readonly reason: string; readonly principal?: string; readonly operation?: string }
  /** Someone else's request id: a refusal (recorded DENIED) that says nothing about what it created. */
  | { readonly kind: 'REQUEST_ID_REUSED'; readonly message: string }
  /** An alias held by another key, a stale expected version, or a key that changed concurrently too often. */
  | { readonly kind: 'CONFLICT'; readonly message: string }
  | { readonly kind: 'IMPORT_TOKEN_INVALID'; readonly message: string }
  /**
   * The version's wrapped material is gone (destroyed between the state check and the load), or is
   * wrapped only under `epoch`, an epoch key destroyed since (a database restored from before a destroy).
   */
  | { readonly kind: 'MATERIAL_MISSING'; readonly keyId: string; readonly version: number; readonly epoch?: string }
  /** The root of trust is unreachable or refused to (un)wrap. */
  | { readonly kind: 'ROOT_UNAVAILABLE' }
  /** The tenant's root lives in an external KMS that refused or did not answer (reason class only). */
  | { readonly kind: 'EXTERNAL_KEY_UNAVAILABLE'; readonly tenant: string; readonly reason: ExternalKeyReason }
  /** The version used its whole AES-GCM budget; a forced rotation is under way. */
  | { readonly kind: 'BUDGET_EXHAUSTED'; readonly keyId: string; readonly version: number }
  /** A dependency (material store, GCM counter, key state, the policy service) failed: nothing happened. */
  | { readonly kind: 'UNAVAILABLE'; readonly what: string }
  /** Postgres failed or did not answer in time: a timed-out COMMIT may still have committed. */
  | { readonly kind: 'STORE_UNAVAILABLE' }
  /** The key's tenant is sealed (the kill switch): refused on every replica until unsealed. */
  | { readonly kind: 'TENANT_SEALED'; readonly tenant: string }
  /** The usage record could not be committed (fail closed). */
  | { readonly kind: 'AUDIT_UNAVAILABLE' }
  /** The database refused this request's own usage record (a value it cannot store): not retriable. */
  | { readonly kind: 'AUDIT_RECORD_REFUSED' }
  /** The caller's deadline passed before `step`: it was not started (nothing changed). */
  | { readonly kind: 'DEADLINE_EXCEEDED'; readonly step: string }
  /** A failure an operation already put in wire form (a lifecycle use case's reply). */
  | { readonly kind: 'REPLIED'; readonly error: ReplyError };

export type CallFailureKind = CallFailure['kind'];

export { REJECTION_TO_BUS };

/** Failure kind → wire code (REJECTED is refined through REJECTION_TO_BUS, REPLIED carries its own). */
const KIND_TO_BUS: Readonly<Record<Exclude<CallFailureKind, 'REJECTED' | 'REPLIED'>, BusErrorCode>> = {
  KEY_NOT_FOUND: BusErrorCode.KeyNotFound,
  INVALID_CIPHERTEXT: BusErrorCode.InvalidCiphertext,
  INVALID_CONTEXT: BusErrorCode.Validation,
  INVALID_REQUEST: BusErrorCode.Validation,
  FORBIDDEN: BusErrorCode.Forbidden,
  REQUEST_ID_REUSED: BusErrorCode.Forbidden,
  CONFLICT: BusErrorCode.Conflict,
  IMPORT_TOKEN_INVALID: BusErrorCode.ImportTokenInvalid,
  MATERIAL_MISSING: BusErrorCode.KeyNotActive,
  ROOT_UNAVAILABLE: BusErrorCode.RootKeyUnavailable,
  EXTERNAL_KEY_UNAVAILABLE: BusErrorCode.ExternalKeyUnavailable,
  // Retriable: the forced rotation makes a new primary within moments.
  BUDGET_EXHAUSTED: BusErrorCode.Unavailable,
  UNAVAILABLE: BusErrorCode.Unavailable,
  STORE_UNAVAILABLE: BusErrorCode.Unavailable,
  TENANT_SEALED: BusErrorCode.TenantSealed,
  AUDIT_UNAVAILABLE: BusErrorCode.AuditUnavailable,
  AUDIT_RECORD_REFUSED: BusErrorCode.Validation,
  DEADLINE_EXCEEDED: BusErrorCode.DeadlineExceeded,
};

export function busCodeOf(f: CallFailure): BusErrorCode {
  if (f.kind === 'REJECTED') return REJECTION_TO_BUS[f.rejection.code];
  if (f.kind === 'REPLIED') return f.error.code as BusErrorCode;
  return KIND_TO_BUS[f.kind];
}

export function describeFailure(f: CallFailure): string {
  switch (f.kind) {
    case 'REJECTED': return describeRejection(f.rejection);
    case 'KEY_NOT_FOUND': return `key ${f.keyRef} does not exist`;
    case 'INVALID_CIPHERTEXT': return 'ciphertext is invalid';
    case 'INVALID_CONTEXT': return `${f.field}: ${f.message}`;
    case 'INVALID_REQUEST': return f.message;
    case 'FORBIDDEN':
      // Lifecycle refusals name the caller and the operation; data-plane refusals the action and the key.
      return f.principal !== undefined ? `${f.principal} may not ${f.operation ?? f.action.slice('keys:'.length)}: ${f.reason}` : `${f.action} on key ${f.keyId ?? '(none)'} is denied: ${f.reason}`;
    case 'REQUEST_ID_REUSED': return f.message;
    case 'CONFLICT': return f.message;
    case 'IMPORT_TOKEN_INVALID': return f.message;
    case 'MATERIAL_MISSING':
      return f.epoch === undefined
        ? `the material of version ${f.version} of key ${f.keyId} is gone`
        : `the material of version ${f.version} of key ${f.keyId} is gone: it is wrapped under epoch ${f.epoch}, whose key was destroyed (a backup from before the destroy cannot bring it back)`;
    case 'ROOT_UNAVAILABLE': return 'the root of trust is unavailable; the operation was not performed';
    case 'EXTERNAL_KEY_UNAVAILABLE':
      return f.reason === 'ENDPOINT_NOT_ALLOWED'
        ? `the external root key of tenant ${f.tenant} is unavailable (ENDPOINT_NOT_ALLOWED: its endpoint's origin is not in this EKM's EKM_XKS_ALLOWED_ENDPOINTS, so it was not called); the operation was not performed`
        : `the external root key of tenant ${f.tenant} is unavailable (${f.reason}); the operation was not performed`;
    case 'BUDGET_EXHAUSTED':
      return `version ${f.version} of key ${f.keyId} reached its AES-GCM budget; a rotation is under way, retry shortly`;
    case 'UNAVAILABLE': return `${f.what} is unavailable; the operation was not performed (nothing was changed), retry`;
    case 'STORE_UNAVAILABLE': return 'the key store (Postgres) is unavailable or did not answer in time; retry with the same request id';
    case 'TENANT_SEALED': return `tenant ${f.tenant} is sealed; an admin of the tenant or an operator must unseal it (ekm tenant unseal ${f.tenant})`;
    case 'AUDIT_UNAVAILABLE': return 'usage record could not be committed; the operation was not performed';
    case 'AUDIT_RECORD_REFUSED': return '(request): holds a value the usage record cannot store; the operation was not performed';
    case 'DEADLINE_EXCEEDED': return `the request's deadline (Ekm-Timeout-Ms) passed before ${f.step}; nothing was done`;
    case 'REPLIED': return f.error.message;
    default: {
      const never: never = f;
      throw new Error(`unmapped failure ${JSON.stringify(never)}`);
    }
  }
}

export function toFailReply(f: CallFailure): FailReply {
  if (f.kind === 'REPLIED') return { ok: false, error: f.error } as FailReply;
  if (f.kind !== 'REJECTED') return fail(busCodeOf(f), describeFailure(f));
  // The refusing state, typed: an edge (kms-api's DisabledException) must not parse it out of the message.
  const details = f.rejection.code === 'INVALID_KEY_STATE' ? { rejection: f.rejection.code, keyStatus: f.rejection.status } : { rejection: f.rejection.code };
  return fail(busCodeOf(f), describeFailure(f), details);
}

/**
 * Known errors thrown below the pipeline → CallFailure; an unknown one → null (a bug: recorded FAILED
 * EKM_INTERNAL, logged, answered EKM_INTERNAL with the request id).
 */
export function classify(err: unknown): CallFailure | null {
  if (err instanceof InvalidCiphertextError) return { kind: 'INVALID_CIPHERTEXT' };
  if (err instanceof ExternalKeyUnavailableError) return { kind: 'EXTERNAL_KEY_UNAVAILABLE', tenant: err.tenant, reason: err.reason };
  if (err instanceof ExternalEndpointNotAllowedError) return { kind: 'INVALID_REQUEST', message: err.message };
  if (err instanceof TenantRootPayloadInvalidError) return { kind: 'ROOT_UNAVAILABLE' };
  if (err instanceof MaterialEpochDestroyedError) return { kind: 'MATERIAL_MISSING', keyId: err.keyId, version: err.version, epoch: err.epoch };
  if (err instanceof MaterialMissingError) return { kind: 'MATERIAL_MISSING', keyId: err.keyId, version: err.version };
  if (err instanceof RootKeyUnavailableError || err instanceof UnwrapFailedError || err instanceof RootOperationFailedError) return { kind: 'ROOT_UNAVAILABLE' };
  if (err instanceof EncryptionContextInvalidError) return { kind: 'INVALID_CONTEXT', field: 'encryptionContext', message: err.message };
  if (err instanceof ImportMaterialInvalidError) return { kind: 'INVALID_REQUEST', message: `encryptedKeyMaterial: ${err.message}` };
  if (err instanceof InvalidCursorError) return { kind: 'INVALID_REQUEST', message: err.message };
  if (err instanceof AliasTakenError || err instanceof StaleExpectedVersionError) return { kind: 'CONFLICT', message: err.message };
  if (err instanceof ConcurrencyConflictError) return { kind: 'CONFLICT', message: 'the key changed concurrently too often; retry' };
  if (err instanceof ImportTokenRaceError) return { kind: 'IMPORT_TOKEN_INVALID', message: err.message };
  if (err instanceof RequestIdReusedError) return { kind: 'REQUEST_ID_REUSED', message: err.message };
  if (err instanceof UsageRecordRefusedError) return { kind: 'AUDIT_RECORD_REFUSED' };
  if (err instanceof AuditUnavailableError) return { kind: 'AUDIT_UNAVAILABLE' };
  if (err instanceof DependencyUnavailableError) return { kind: 'UNAVAILABLE', what: err.what };
  if (isDatabaseUnavailable(err)) return { kind: 'STORE_UNAVAILABLE' };
  return null;
}

export const rejected = (rejection: KeyRejection): CallFailure => ({ kind: 'REJECTED', rejection });

/** The reply of a domain rejection (its code in `details.rejection`). */
export const rejectionReply = (r: KeyRejection): FailReply => toFailReply(rejected(r));
