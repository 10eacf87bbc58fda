import type {
  DestroyKeyVersion, DisableKeyRotation, DisableKeyVersion, EnableKeyRotation, EnableKeyVersion, MarkKeyVersionCompromised,
  RotateKey, SetPrimaryVersion,
} from './key.commands';
import type { KeyLifecycleLimits } from './key.limits';
import { accept, reject, type Decision } from './key.rejections';
import type { ExistingKeyState, KeyState, VersionState } from './key.state';
import { ROTATION_REASONS, type KeyId, type KeyStatus } from './key.types';
import { ANY_LIVE_STATUS, isRejection, loadKey, materialRejection } from './key.decide-support';
import { addDays, isOneOf } from './key.validation';

// Versions can be managed on a revoked key too: disabling or destroying them is containment.
const VERSION_ADMIN_STATUSES: readonly KeyStatus[] = ['Enabled', 'Disabled', 'Compromised'];

export const rotateKey = (cmd: RotateKey, s: KeyState): Decision => {
  const { keyId, reason, materialRef, fingerprint } = cmd.data;
  const key = loadKey(s, keyId, 'RotateKey', ['Enabled']);
  if (isRejection(key)) return reject(key);
  // EKM cannot generate external material: an EXTERNAL key gets new versions through ImportKeyMaterial.
  if (key.origin === 'EXTERNAL') return reject({ code: 'ORIGIN_MISMATCH', keyId, origin: key.origin, operation: 'RotateKey' });
  if (!isOneOf(ROTATION_REASONS, reason))
    return reject({ code: 'INVALID_ARGUMENT', keyId, field: 'reason', problem: `must be one of ${ROTATION_REASONS.join(', ')}` });
  if (reason === 'BUDGET' && key.spec !== 'SYMMETRIC_DEFAULT') // only AES-GCM has an invocation budget
    return reject({ code: 'UNSUPPORTED_FOR_SPEC', keyId, spec: key.spec, operation: 'RotateKey for BUDGET' });
  const bad = materialRejection(keyId, cmd.data);
  if (bad !== null) return reject(bad);
  const from = primaryOf(key);
  const to = key.highestVersion + 1;
  const now = cmd.meta.now;
  const nextRotationAt = key.rotation.enabled ? addDays(now, key.rotation.periodDays) : null;
  return accept(
    { type: 'KeyVersionAdded', data: { keyId, version: to, materialRef, fingerprint, isPrimary: true, createdAt: now }, meta: cmd.meta },
    { type: 'KeyRotated', data: { keyId, from, to, reason, rotatedAt: now, nextRotationAt }, meta: cmd.meta },
  );
};

export const setPrimaryVersion = (cmd: SetPrimaryVersion, s: KeyState): Decision => {
  const { keyId, version } = cmd.data;
  const key = loadKey(s, keyId, 'SetPrimaryVersion', ['Enabled', 'Disabled']);
  if (isRejection(key)) return reject(key);
  const v = key.versions.get(version);
  if (v === undefined) return reject({ code: 'VERSION_NOT_FOUND', keyId, version });
  if (v.status !== 'Enabled') return reject({ code: VERSION_REFUSAL[v.status], keyId, version });
  const from = primaryOf(key);
  if (from === version) return accept();
  return accept({ type: 'PrimaryVersionChanged', data: { keyId, from, to: version }, meta: cmd.meta });
};

export const disableKeyVersion = (cmd: DisableKeyVersion, s: KeyState): Decision => {
  const { keyId, version } = cmd.data;
  const found = loadVersion(s, keyId, version, 'DisableKeyVersion');
  if ('ok' in found) return found;
  if (found.status === 'Destroyed') return reject({ code: 'VERSION_DESTROYED', keyId, version });
  // Disabling would drop the mark, and a disabled version can be enabled again.
  if (found.status === 'Compromised') return reject({ code: 'VERSION_COMPROMISED', keyId, version });
  if (version === found.primary) // Tink: "cannot disable the primary key"
    return reject({ code: 'PRIMARY_VERSION_CANNOT_BE_DISABLED', keyId, version });
  if (found.status === 'Disabled') return accept();
  return accept({ type: 'KeyVersionDisabled', data: { keyId, version }, meta: cmd.meta });
};

export const enableKeyVersion = (cmd: EnableKeyVersion, s: KeyState): Decision => {
  const { keyId, version } = cmd.data;
  const found = loadVersion(s, keyId, version, 'EnableKeyVersion');
  if ('ok' in found) return found;
  if (found.status === 'Destroyed') return reject({ code: 'VERSION_DESTROYED', keyId, version });
  if (found.status === 'Compromised') return reject({ code: 'VERSION_COMPROMISED', keyId, version });
  if (found.status === 'Enabled') return accept();
  return accept({ type: 'KeyVersionEnabled', data: { keyId, version }, meta: cmd.meta });
};

// Destroy only a disabled version: disabling first is the reversible step that shows nothing still
// needs it (NIST SP 800-57: deactivate before destroy).
export const destroyKeyVersion = (cmd: DestroyKeyVersion, s: KeyState): Decision => {
  const { keyId, version } = cmd.data;
  const found = loadVersion(s, keyId, version, 'DestroyKeyVersion');
  if ('ok' in found) return found;
  if (version === found.primary) return reject({ code: 'PRIMARY_VERSION_CANNOT_BE_DESTROYED', keyId, version });
  if (found.status === 'Destroyed') return accept();
  if (found.status === 'Enabled') return reject({ code: 'VERSION_NOT_DISABLED', keyId, version });
  return accept({ type: 'KeyVersionDestroyed', data: { keyId, version, destroyedAt: cmd.meta.now }, meta: cmd.meta });
};

// A compromised version can still be destroyed (like a disabled one), once its data was re-encrypted.
export const markKeyVersionCompromised = (cmd: MarkKeyVersionCompromised, s: KeyState): Decision => {
  const { keyId, version, reason } = cmd.data;
  const found = loadVersion(s, keyId, version, 'MarkKeyVersionCompromised');
  if ('ok' in found) return found;
  if (typeof reason !== 'string' || reason.length > 512) return reject({ code: 'INVALID_ARGUMENT', keyId, field: 'reason', problem: 'must be a string of at most 512 characters' });
  if (found.status === 'Destroyed') return reject({ code: 'VERSION_DESTROYED', keyId, version });
  if (found.status === 'Compromised') return accept();
  if (version === found.primary) return reject({ code: 'PRIMARY_VERSION_CANNOT_BE_COMPROMISED', keyId, version });
  return accept({ type: 'KeyVersionCompromised', data: { keyId, version, reason, compromisedAt: cmd.meta.now }, meta: cmd.meta });
};

const VERSION_REFUSAL = { Disabled: 'VERSION_DISABLED', Destroyed: 'VERSION_DESTROYED', Compromised: 'VERSION_COMPROMISED' } as const;

export const enableKeyRotation = (cmd: EnableKeyRotation, s: KeyState, limits: KeyLifecycleLimits): Decision => {
  const { keyId } = cmd.data;
  const key = loadKey(s, keyId, 'EnableKeyRotation', ['Enabled', 'Disabled']);
  if (isRejection(key)) return reject(key);
  if (key.origin === 'EXTERNAL') return reject({ code: 'ORIGIN_MISMATCH', keyId, origin: key.origin, operation: 'EnableKeyRotation' });
  const periodDays = cmd.data.periodDays ?? limits.defaultRotationPeriodDays;
  const [min, max] = [limits.minRotationPeriodDays, limits.maxRotationPeriodDays];
  if (!Number.isSafeInteger(periodDays) || periodDays < min || periodDays > max)
    return reject({ code: 'ROTATION_PERIOD_OUT_OF_RANGE', keyId, periodDays, min, max });
  if (key.rotation.enabled && key.rotation.periodDays === periodDays) return accept();
  return accept({ type: 'KeyRotationEnabled', data: { keyId, periodDays, nextRotationAt: addDays(cmd.meta.now, periodDays) }, meta: cmd.meta });
};

export const disableKeyRotation = (cmd: DisableKeyRotation, s: KeyState): Decision => {
  const { keyId } = cmd.data;
  const key = loadKey(s, keyId, 'DisableKeyRotation', ANY_LIVE_STATUS);
  if (isRejection(key)) return reject(key);
  return key.rotation.enabled ? accept({ type: 'KeyRotationDisabled', data: { keyId }, meta: cmd.meta }) : accept();
};

/** The version with its key's primary number, or the rejection Decision. */
const loadVersion = (
  s: KeyState, keyId: KeyId, version: number, operation: string,
): (VersionState & { primary: number | null }) | Extract<Decision, { ok: false }> => {
  const key = loadKey(s, keyId, operation, VERSION_ADMIN_STATUSES);
  if (isRejection(key)) return { ok: false, rejection: key };
  const v = key.versions.get(version);
  if (v === undefined) return { ok: false, rejection: { code: 'VERSION_NOT_FOUND', keyId, version } };
  return { ...v, primary: key.primary };
};

const primaryOf = (key: ExistingKeyState): number => {
  // Enabled and Disabled keys always have a primary (EKM keys get version 1 at creation, EXTERNAL keys
  // leave PendingImport only through their first import); anything else is a programmer error.
  if (key.primary === null) throw new Error(`invariant: key ${key.keyId} is ${key.status} without a primary version`);
  return key.primary;
};
