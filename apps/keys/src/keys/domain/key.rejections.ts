import type { KeyEvent } from './key.events';
import type { KeyStatus, KeyId, KeyOrigin, KeySpec } from './key.types';
import type { ImportTokenProblem } from './key.validation';

type Versioned = { keyId: KeyId; version: number };

/** Why a command (or a data-plane call) was refused. Plain data; never carries material. */
export type KeyRejection =
  | { code: 'KEY_NOT_FOUND'; keyId: KeyId }
  | { code: 'KEY_ALREADY_EXISTS'; keyId: KeyId; status: KeyStatus }
  /** The key's status forbids `operation` (AWS's KMSInvalidStateException). */
  | { code: 'INVALID_KEY_STATE'; keyId: KeyId; status: KeyStatus; operation: string }
  /** A field broke a structural rule; `problem` says which, without echoing secret values. */
  | { code: 'INVALID_ARGUMENT'; keyId: KeyId; field: string; problem: string }
  | ({ code: 'VERSION_NOT_FOUND' | 'VERSION_DISABLED' | 'VERSION_DESTROYED' | 'VERSION_NOT_DISABLED' | 'VERSION_COMPROMISED' } & Versioned)
  | ({ code: 'PRIMARY_VERSION_CANNOT_BE_DISABLED' | 'PRIMARY_VERSION_CANNOT_BE_DESTROYED' | 'PRIMARY_VERSION_CANNOT_BE_COMPROMISED' } & Versioned)
  | { code: 'DELETION_WINDOW_OUT_OF_RANGE'; keyId: KeyId; pendingWindowDays: number; min: number; max: number }
  | { code: 'DELETION_WINDOW_NOT_ELAPSED'; keyId: KeyId; deletionDate: string; now: string }
  | { code: 'INVALID_ALIAS'; keyId: KeyId; alias: string; problem: string }
  /** Uniqueness within this key only; global alias uniqueness is enforced by the alias projection. */
  | { code: 'ALIAS_ALREADY_EXISTS' | 'ALIAS_NOT_FOUND'; keyId: KeyId; alias: string }
  | { code: 'INVALID_TAG'; keyId: KeyId; tagKey: string; problem: string }
  | { code: 'ROTATION_PERIOD_OUT_OF_RANGE'; keyId: KeyId; periodDays: number; min: number; max: number }
  | { code: 'UNSUPPORTED_FOR_SPEC'; keyId: KeyId | null; spec: KeySpec; operation: string }
  | { code: 'ORIGIN_MISMATCH'; keyId: KeyId; origin: KeyOrigin; operation: string }
  | { code: 'IMPORT_TOKEN_INVALID'; keyId: KeyId; tokenId: string; problem: ImportTokenProblem }
  | { code: 'IMPORT_TOKEN_EXPIRED'; keyId: KeyId; tokenId: string; expiresAt: string }
  | { code: 'IMPORT_TOKEN_USED'; keyId: KeyId; tokenId: string }
  /** Purpose binding: names the context keys that are missing or differ, never their values. */
  | { code: 'CONTEXT_MISMATCH'; keyId: KeyId | null; missing: readonly string[]; different: readonly string[] };

export type KeyRejectionCode = KeyRejection['code'];

/** Every code, for exhaustive tables (the bus adapter's mapping, tests). */
export const KEY_REJECTION_CODES = [
  'KEY_NOT_FOUND', 'KEY_ALREADY_EXISTS', 'INVALID_KEY_STATE', 'INVALID_ARGUMENT', 'VERSION_NOT_FOUND',
  'VERSION_DISABLED', 'VERSION_DESTROYED', 'VERSION_NOT_DISABLED', 'PRIMARY_VERSION_CANNOT_BE_DISABLED',
  'PRIMARY_VERSION_CANNOT_BE_DESTROYED', 'DELETION_WINDOW_OUT_OF_RANGE', 'DELETION_WINDOW_NOT_ELAPSED',
  'INVALID_ALIAS', 'ALIAS_ALREADY_EXISTS', 'ALIAS_NOT_FOUND', 'INVALID_TAG', 'ROTATION_PERIOD_OUT_OF_RANGE',
  'UNSUPPORTED_FOR_SPEC', 'ORIGIN_MISMATCH', 'IMPORT_TOKEN_INVALID', 'IMPORT_TOKEN_EXPIRED', 'IMPORT_TOKEN_USED',
  'CONTEXT_MISMATCH', 'VERSION_COMPROMISED', 'PRIMARY_VERSION_CANNOT_BE_COMPROMISED',
] as const satisfies readonly KeyRejectionCode[];
// Fails to compile when a code is added to the union but not to the list.
type MissingCode = Exclude<KeyRejectionCode, (typeof KEY_REJECTION_CODES)[number]>;
const listIsComplete: [MissingCode] extends [never] ? true : MissingCode = true;
void listIsComplete;

/**
 * The decider's answer. An accepted command may produce no events (an idempotent no-op, e.g. disabling a
 * disabled key); the application layer then appends nothing.
 */
export type Decision = { ok: true; events: KeyEvent[] } | { ok: false; rejection: KeyRejection };

export const accept = (...events: KeyEvent[]): Decision => ({ ok: true, events });
export const reject = (rejection: KeyRejection): Decision => ({ ok: false, rejection });
