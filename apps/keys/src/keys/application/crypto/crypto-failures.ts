/**
 * Why a data-plane call failed, as plain data, and the ONE exhaustive mapping onto wire error codes.
 * Messages name rules and ids, never material, plaintext, blobs or context values.
 */
import { BusErrorCode, fail, type FailReply } from '@ekm/contracts';
import { describeRejection, type KeyRejection } from '../../domain';
import { REJECTION_TO_BUS } from '../rejection-codes';

export type CryptoFailure =
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
  | { readonly kind: 'FORBIDDEN'; readonly keyId: string; readonly action: string; readonly reason: string }
  /**
   * The version's wrapped material is gone (destroyed between the state check and the load), or is
   * wrapped only under `epoch`, an epoch key destroyed since (a database restored from before a destroy).
   */
  | { readonly kind: 'MATERIAL_MISSING'; readonly keyId: string; readonly version: number; readonly epoch?: string }
  /** The root of trust is unreachable or refused to unwrap. */
  | { readonly kind: 'ROOT_UNAVAILABLE' }
  /** The version used its whole AES-GCM budget; a forced rotation is under way. */
  | { readonly kind: 'BUDGET_EXHAUSTED'; readonly keyId: string; readonly version: number }
  /** Postgres (material store, GCM counter) failed: nothing happened. */
  | { readonly kind: 'UNAVAILABLE'; readonly what: string }
  /** The usage record could not be committed (fail closed). */
  | { readonly kind: 'AUDIT_UNAVAILABLE' }
  /** The database refused this request's own usage record (a value it cannot store): not retriable. */
  | { readonly kind: 'AUDIT_RECORD_REFUSED' };

export type CryptoFailureKind = CryptoFailure['kind'];

export { REJECTION_TO_BUS };

/** Failure kind → wire code (REJECTED is refined through REJECTION_TO_BUS). */
const KIND_TO_BUS: Readonly<Record<Exclude<CryptoFailureKind, 'REJECTED'>, BusErrorCode>> = {
  KEY_NOT_FOUND: BusErrorCode.KeyNotFound,
  INVALID_CIPHERTEXT: BusErrorCode.InvalidCiphertext,
  INVALID_CONTEXT: BusErrorCode.Validation,
  FORBIDDEN: BusErrorCode.Forbidden,
  MATERIAL_MISSING: BusErrorCode.KeyNotActive,
  ROOT_UNAVAILABLE: BusErrorCode.RootKeyUnavailable,
  // Retriable: the forced rotation makes a new primary within moments.
  BUDGET_EXHAUSTED: BusErrorCode.Unavailable,
  UNAVAILABLE: BusErrorCode.Unavailable,
  AUDIT_UNAVAILABLE: BusErrorCode.AuditUnavailable,
  AUDIT_RECORD_REFUSED: BusErrorCode.Validation,
};

export function busCodeOf(f: CryptoFailure): BusErrorCode {
  return f.kind === 'REJECTED' ? REJECTION_TO_BUS[f.rejection.code] : KIND_TO_BUS[f.kind];
}

export function describeFailure(f: CryptoFailure): string {
  switch (f.kind) {
    case 'REJECTED': return describeRejection(f.rejection);
    case 'KEY_NOT_FOUND': return `key ${f.keyRef} does not exist`;
    case 'INVALID_CIPHERTEXT': return 'ciphertext is invalid';
    case 'INVALID_CONTEXT': return `${f.field}: ${f.message}`;
    case 'FORBIDDEN': return `${f.action} on key ${f.keyId} is denied: ${f.reason}`;
    case 'MATERIAL_MISSING':
      return f.epoch === undefined
        ? `the material of version ${f.version} of key ${f.keyId} is gone`
        : `the material of version ${f.version} of key ${f.keyId} is gone: it is wrapped under epoch ${f.epoch}, whose key was destroyed (a backup from before the destroy cannot bring it back)`;
    case 'ROOT_UNAVAILABLE': return 'the root of trust is unavailable; the operation was not performed';
    case 'BUDGET_EXHAUSTED':
      return `version ${f.version} of key ${f.keyId} reached its AES-GCM budget; a rotation is under way, retry shortly`;
    case 'UNAVAILABLE': return `${f.what} is unavailable; the operation was not performed`;
    case 'AUDIT_UNAVAILABLE': return 'usage record could not be committed; the operation was not performed';
    case 'AUDIT_RECORD_REFUSED': return '(request): holds a value the usage record cannot store; the operation was not performed';
    default: {
      const never: never = f;
      throw new Error(`unmapped failure ${JSON.stringify(never)}`);
    }
  }
}

export function toFailReply(f: CryptoFailure): FailReply {
  return fail(busCodeOf(f), describeFailure(f));
}

export const rejected = (rejection: KeyRejection): CryptoFailure => ({ kind: 'REJECTED', rejection });
