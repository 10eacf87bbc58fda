import { MAX_ID_LENGTH, MAX_TAGS } from './key.limits';
import type { KeyRejection } from './key.rejections';
import type { ExistingKeyState, KeyState } from './key.state';
import type { KeyId, KeyStatus, StringMap, VersionMaterial } from './key.types';
import { tagProblem, textProblem } from './key.validation';

// Guards shared by the per-command deciders. Each returns the narrowed key, or the rejection to return.

export const ANY_LIVE_STATUS: readonly KeyStatus[] = ['PendingImport', 'Enabled', 'Disabled', 'PendingDeletion', 'Compromised'];

export const isRejection = (x: ExistingKeyState | KeyRejection | null): x is KeyRejection => x !== null && 'code' in x;

/** The key, if it exists and its status is one of `allowed`. */
export const loadKey = (
  s: KeyState, keyId: KeyId, operation: string, allowed: readonly KeyStatus[],
): ExistingKeyState | KeyRejection => {
  if (s.status === 'Absent') return { code: 'KEY_NOT_FOUND', keyId };
  if (!allowed.includes(s.status)) return { code: 'INVALID_KEY_STATE', keyId, status: s.status, operation };
  return s;
};

export const materialRejection = (keyId: KeyId, m: VersionMaterial): KeyRejection | null => {
  const refProblem = textProblem(m.materialRef, 1, MAX_ID_LENGTH);
  if (refProblem !== null) return { code: 'INVALID_ARGUMENT', keyId, field: 'materialRef', problem: refProblem };
  const fpProblem = textProblem(m.fingerprint, 1, MAX_ID_LENGTH);
  if (fpProblem !== null) return { code: 'INVALID_ARGUMENT', keyId, field: 'fingerprint', problem: fpProblem };
  return null;
};

/** Validates `added` and the size of the merged tag set. */
export const tagsRejection = (keyId: KeyId, current: StringMap, added: unknown): KeyRejection | null => {
  if (typeof added !== 'object' || added === null || Array.isArray(added))
    return { code: 'INVALID_ARGUMENT', keyId, field: 'tags', problem: 'must be an object of string values' };
  for (const [tagKey, value] of Object.entries(added)) {
    const problem = tagProblem(tagKey, value);
    if (problem !== null) return { code: 'INVALID_TAG', keyId, tagKey, problem };
  }
  const merged = new Set([...Object.keys(current), ...Object.keys(added)]);
  if (merged.size > MAX_TAGS) {
    const tagKey = Object.keys(added).find((k) => !(k in current)) ?? '';
    return { code: 'INVALID_TAG', keyId, tagKey, problem: `a key holds at most ${MAX_TAGS} tags` };
  }
  return null;
};
