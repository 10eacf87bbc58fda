import type {
  CancelKeyDeletion, CreateKey, DestroyKey, DisableKey, EnableKey, RevokeKey, ScheduleKeyDeletion,
} from './key.commands';
import type { KeyEvent } from './key.events';
import { MAX_DESCRIPTION_LENGTH, MAX_ID_LENGTH, MAX_REASON_LENGTH, type KeyLifecycleLimits } from './key.limits';
import { accept, reject, type Decision, type KeyRejection } from './key.rejections';
import type { KeyState } from './key.state';
import { KEY_ORIGINS, KEY_SPECS, KEY_USAGES, USAGE_OF_SPEC } from './key.types';
import { isRejection, loadKey, materialRejection, tagsRejection } from './key.decide-support';
import { addDays, isAtOrBefore, isOneOf, requiredContextProblem, textProblem } from './key.validation';

export const createKey = (cmd: CreateKey, s: KeyState): Decision => {
  const { keyId, tenant, spec, usage, origin, initialVersion } = cmd.data;
  const description = cmd.data.description ?? '';
  const tags = cmd.data.tags ?? {};
  const requiredContext = cmd.data.requiredContext ?? {};
  if (s.status !== 'Absent') return reject({ code: 'KEY_ALREADY_EXISTS', keyId, status: s.status });
  const invalid = createKeyRejection(cmd);
  if (invalid !== null) return reject(invalid);
  const now = cmd.meta.now;
  const events: KeyEvent[] = [{
    type: 'KeyCreated',
    data: { keyId, tenant, spec, usage, origin, description, tags: { ...tags }, requiredContext: { ...requiredContext }, createdAt: now },
    meta: cmd.meta,
  }];
  if (initialVersion !== undefined) {
    const { materialRef, fingerprint } = initialVersion;
    events.push({ type: 'KeyVersionAdded', data: { keyId, version: 1, materialRef, fingerprint, isPrimary: true, createdAt: now }, meta: cmd.meta });
  }
  return accept(...events);
};

const createKeyRejection = (cmd: CreateKey): KeyRejection | null => {
  const { keyId, tenant, spec, usage, origin, initialVersion } = cmd.data;
  const field = (name: string, problem: string | null): KeyRejection | null =>
    problem === null ? null : { code: 'INVALID_ARGUMENT', keyId, field: name, problem };
  const structural =
    field('keyId', textProblem(keyId, 1, MAX_ID_LENGTH)) ??
    field('tenant', textProblem(tenant, 1, MAX_ID_LENGTH)) ??
    field('spec', isOneOf(KEY_SPECS, spec) ? null : `must be one of ${KEY_SPECS.join(', ')}`) ??
    field('usage', isOneOf(KEY_USAGES, usage) ? null : `must be one of ${KEY_USAGES.join(', ')}`) ??
    field('origin', isOneOf(KEY_ORIGINS, origin) ? null : `must be one of ${KEY_ORIGINS.join(', ')}`) ??
    field('description', textProblem(cmd.data.description ?? '', 0, MAX_DESCRIPTION_LENGTH)) ??
    field('requiredContext', requiredContextProblem(cmd.data.requiredContext ?? {}));
  if (structural !== null) return structural;
  if (USAGE_OF_SPEC[spec] !== usage) return { code: 'UNSUPPORTED_FOR_SPEC', keyId, spec, operation: `usage ${usage}` };
  const badTags = tagsRejection(keyId, {}, cmd.data.tags ?? {});
  if (badTags !== null) return badTags;
  if (origin === 'EXTERNAL' && initialVersion !== undefined)
    return { code: 'ORIGIN_MISMATCH', keyId, origin, operation: 'CreateKey with EKM-generated material' };
  if (origin === 'EKM' && initialVersion === undefined)
    return { code: 'INVALID_ARGUMENT', keyId, field: 'initialVersion', problem: 'required for origin EKM' };
  return initialVersion === undefined ? null : materialRejection(keyId, initialVersion);
};

export const enableKey = (cmd: EnableKey, s: KeyState): Decision => {
  const { keyId } = cmd.data;
  const key = loadKey(s, keyId, 'EnableKey', ['Enabled', 'Disabled']);
  if (isRejection(key)) return reject(key);
  return key.status === 'Enabled' ? accept() : accept({ type: 'KeyEnabled', data: { keyId }, meta: cmd.meta });
};

export const disableKey = (cmd: DisableKey, s: KeyState): Decision => {
  const { keyId } = cmd.data;
  const key = loadKey(s, keyId, 'DisableKey', ['Enabled', 'Disabled']);
  if (isRejection(key)) return reject(key);
  return key.status === 'Disabled' ? accept() : accept({ type: 'KeyDisabled', data: { keyId }, meta: cmd.meta });
};

export const revokeKey = (cmd: RevokeKey, s: KeyState): Decision => {
  const { keyId, reason } = cmd.data;
  const key = loadKey(s, keyId, 'RevokeKey', ['Enabled', 'Disabled']);
  if (isRejection(key)) return reject(key);
  const problem = textProblem(reason, 1, MAX_REASON_LENGTH);
  if (problem !== null) return reject({ code: 'INVALID_ARGUMENT', keyId, field: 'reason', problem });
  return accept({ type: 'KeyRevoked', data: { keyId, reason, revokedAt: cmd.meta.now }, meta: cmd.meta });
};

// A revoked key may be scheduled for deletion too (the usual end of a compromise), and a key still
// waiting for its first import may be abandoned; AWS allows both.
export const scheduleKeyDeletion = (cmd: ScheduleKeyDeletion, s: KeyState, limits: KeyLifecycleLimits): Decision => {
  const { keyId } = cmd.data;
  const key = loadKey(s, keyId, 'ScheduleKeyDeletion', ['Enabled', 'Disabled', 'Compromised', 'PendingImport']);
  if (isRejection(key)) return reject(key);
  const days = cmd.data.pendingWindowDays ?? limits.defaultPendingWindowDays;
  const [min, max] = [limits.minPendingWindowDays, limits.maxPendingWindowDays];
  if (!Number.isSafeInteger(days) || days < min || days > max)
    return reject({ code: 'DELETION_WINDOW_OUT_OF_RANGE', keyId, pendingWindowDays: days, min, max });
  const now = cmd.meta.now;
  return accept({
    type: 'KeyDeletionScheduled',
    data: { keyId, deletionDate: addDays(now, days), pendingWindowDays: days, scheduledAt: now },
    meta: cmd.meta,
  });
};

// Cancel returns to Disabled (ARCHITECTURE §4); a revoked key stays Compromised and a key that never
// received material stays PendingImport, so a cancel can never bring either back into use.
export const cancelKeyDeletion = (cmd: CancelKeyDeletion, s: KeyState): Decision => {
  const { keyId } = cmd.data;
  const key = loadKey(s, keyId, 'CancelKeyDeletion', ['PendingDeletion']);
  if (isRejection(key)) return reject(key);
  const restoredStatus = key.revocation !== null ? 'Compromised' : key.primary === null ? 'PendingImport' : 'Disabled';
  return accept({ type: 'KeyDeletionCancelled', data: { keyId, restoredStatus }, meta: cmd.meta });
};

/** Crypto-shredding. Aliases are released with explicit events so alias projections need no special case. */
export const destroyKey = (cmd: DestroyKey, s: KeyState): Decision => {
  const { keyId } = cmd.data;
  const key = loadKey(s, keyId, 'DestroyKey', ['PendingDeletion']);
  if (isRejection(key)) return reject(key);
  const now = cmd.meta.now;
  const deletionDate = key.deletion?.deletionDate ?? now;
  if (!isAtOrBefore(deletionDate, now)) return reject({ code: 'DELETION_WINDOW_NOT_ELAPSED', keyId, deletionDate, now });
  const aliasEvents: KeyEvent[] = [...key.aliases].sort().map((alias) => ({ type: 'AliasDeleted', data: { keyId, alias }, meta: cmd.meta }));
  return accept(...aliasEvents, { type: 'KeyDestroyed', data: { keyId, destroyedAt: now }, meta: cmd.meta });
};
