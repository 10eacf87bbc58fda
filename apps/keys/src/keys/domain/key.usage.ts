import { DEFAULT_BUDGET_THRESHOLD } from './key.limits';
import type { KeyRejection } from './key.rejections';
import type { KeyState } from './key.state';
import { USAGE_OF_SPEC, type CryptoOperation, type KeyId, type KeySpec, type KeyUsage, type StringMap } from './key.types';

// Data-plane rules the application layer applies on every crypto call, before touching material.

/** The version to use, with the reference of its wrapped material. */
export type VersionChoice = { ok: true; version: number; materialRef: string } | { ok: false; rejection: KeyRejection };
export type Check = { ok: true } | { ok: false; rejection: KeyRejection };

const refuse = (rejection: KeyRejection): { ok: false; rejection: KeyRejection } => ({ ok: false, rejection });

/**
 * Only the primary of an Enabled key encrypts (Compromised never does, whatever policy says).
 * Pass `keyId` so that a KEY_NOT_FOUND for an absent stream names the key that was asked for.
 */
export const selectEncryptVersion = (state: KeyState, keyId?: KeyId): VersionChoice => {
  if (state.status === 'Absent') return refuse({ code: 'KEY_NOT_FOUND', keyId: keyId ?? ('' as KeyId) });
  if (state.status !== 'Enabled' || state.primary === null)
    return refuse({ code: 'INVALID_KEY_STATE', keyId: state.keyId, status: state.status, operation: 'Encrypt' });
  const v = state.versions.get(state.primary);
  // The primary cannot be disabled or destroyed, so this is a defence in depth, not a normal path.
  if (v === undefined || v.status !== 'Enabled')
    return refuse({ code: 'INVALID_KEY_STATE', keyId: state.keyId, status: state.status, operation: 'Encrypt' });
  return { ok: true, version: v.version, materialRef: v.materialRef };
};

export interface DecryptOptions {
  /**
   * Set only when policy explicitly permits decrypting with a revoked key or a compromised version
   * (ARCHITECTURE §4), or for the source side of a ReEncrypt (the plaintext never leaves EKM).
   */
  readonly allowCompromised: boolean;
}

/**
 * Any enabled version of an Enabled key decrypts (older ones decrypt only). Disabled, PendingImport and
 * PendingDeletion keys refuse; Destroyed keys and destroyed or disabled versions never decrypt; a
 * revoked key or a compromised version decrypts only with `allowCompromised`.
 */
export const checkDecryptAllowed = (state: KeyState, version: number, options: DecryptOptions, keyId?: KeyId): VersionChoice => {
  if (state.status === 'Absent') return refuse({ code: 'KEY_NOT_FOUND', keyId: keyId ?? ('' as KeyId) });
  const usable = state.status === 'Enabled' || (state.status === 'Compromised' && options.allowCompromised);
  if (!usable) return refuse({ code: 'INVALID_KEY_STATE', keyId: state.keyId, status: state.status, operation: 'Decrypt' });
  const v = state.versions.get(version);
  if (v === undefined) return refuse({ code: 'VERSION_NOT_FOUND', keyId: state.keyId, version });
  if (v.status === 'Destroyed') return refuse({ code: 'VERSION_DESTROYED', keyId: state.keyId, version });
  if (v.status === 'Disabled') return refuse({ code: 'VERSION_DISABLED', keyId: state.keyId, version });
  if (v.status === 'Compromised' && !options.allowCompromised) return refuse({ code: 'VERSION_COMPROMISED', keyId: state.keyId, version });
  return { ok: true, version: v.version, materialRef: v.materialRef };
};

/**
 * Purpose binding: every required entry must be present in the request's context with an equal value.
 * The rejection names the offending context keys only. Context values are not secret in KMS practice
 * (AWS logs them), but echoing the required value would let a refused caller learn the binding by
 * probing, and echoing the sent value could leak whatever a caller mistakenly put there.
 */
export const checkPurposeBinding = (required: StringMap, request: StringMap, keyId: KeyId | null = null): Check => {
  const missing: string[] = [];
  const different: string[] = [];
  for (const [k, v] of Object.entries(required)) {
    if (!Object.hasOwn(request, k)) missing.push(k);
    else if (request[k] !== v) different.push(k);
  }
  if (missing.length === 0 && different.length === 0) return { ok: true };
  return refuse({ code: 'CONTEXT_MISMATCH', keyId, missing: missing.sort(), different: different.sort() });
};

const USAGE_OF_OPERATION: Readonly<Record<CryptoOperation, KeyUsage>> = {
  Encrypt: 'ENCRYPT_DECRYPT',
  Decrypt: 'ENCRYPT_DECRYPT',
  ReEncrypt: 'ENCRYPT_DECRYPT',
  GenerateDataKey: 'ENCRYPT_DECRYPT',
  GenerateDataKeyWithoutPlaintext: 'ENCRYPT_DECRYPT',
  GenerateMac: 'GENERATE_VERIFY_MAC',
  VerifyMac: 'GENERATE_VERIFY_MAC',
};

/** MAC operations only with HMAC_256 keys; encryption operations only with SYMMETRIC_DEFAULT keys. */
export const checkUsage = (spec: KeySpec, operation: CryptoOperation, keyId: KeyId | null = null): Check =>
  USAGE_OF_SPEC[spec] === USAGE_OF_OPERATION[operation] ? { ok: true } : refuse({ code: 'UNSUPPORTED_FOR_SPEC', keyId, spec, operation });

/**
 * AES-GCM budget (the counter lives outside the log, reserved in blocks). Rotate once `used` reaches
 * `threshold` of `budget`; the application sends RotateKey with reason BUDGET.
 */
export const needsBudgetRotation = (used: number, budget: number, threshold: number = DEFAULT_BUDGET_THRESHOLD): boolean =>
  used >= Math.floor(budget * threshold);

/** Hard stop: a version that has used its budget must not encrypt again, even if rotation lags. */
export const isBudgetExhausted = (used: number, budget: number): boolean => used >= budget;
