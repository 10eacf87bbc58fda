import { assertNever } from './key.assert';
import type { KeyCommand } from './key.commands';
import {
  cancelKeyDeletion, createKey, destroyKey, disableKey, enableKey, revokeKey, scheduleKeyDeletion,
} from './key.decide-lifecycle';
import { createAlias, deleteAlias, tagKey, untagKey, updateDescription } from './key.decide-attributes';
import { expireImportToken, importKeyMaterial, issueImportParameters } from './key.decide-import';
import {
  destroyKeyVersion, disableKeyRotation, disableKeyVersion, enableKeyRotation, enableKeyVersion, markKeyVersionCompromised,
  rotateKey, setPrimaryVersion,
} from './key.decide-versions';
import { DEFAULT_KEY_LIMITS, type KeyLifecycleLimits } from './key.limits';
import { reject, type Decision } from './key.rejections';
import type { KeyState } from './key.state';
import { isIsoInstant } from './key.validation';

/**
 * The key decider: no I/O, no clock (time is `cmd.meta.now`), no randomness (ids and material refs
 * arrive in the command). A rejection appends nothing. `limits` lets tests shorten the deletion window.
 */
export const decide = (cmd: KeyCommand, state: KeyState, limits: KeyLifecycleLimits = DEFAULT_KEY_LIMITS): Decision => {
  if (state.status !== 'Absent' && state.keyId !== cmd.data.keyId)
    // The stream id is the key id: a mismatch means the caller loaded the wrong stream.
    throw new Error(`programmer error: ${cmd.type} for key ${cmd.data.keyId} decided on the state of ${state.keyId}`);
  if (!isIsoInstant(cmd.meta.now))
    return reject({ code: 'INVALID_ARGUMENT', keyId: cmd.data.keyId, field: 'meta.now', problem: 'must be an ISO-8601 instant' });
  switch (cmd.type) {
    case 'CreateKey': return createKey(cmd, state);
    case 'RotateKey': return rotateKey(cmd, state);
    case 'SetPrimaryVersion': return setPrimaryVersion(cmd, state);
    case 'EnableKey': return enableKey(cmd, state);
    case 'DisableKey': return disableKey(cmd, state);
    case 'RevokeKey': return revokeKey(cmd, state);
    case 'ScheduleKeyDeletion': return scheduleKeyDeletion(cmd, state, limits);
    case 'CancelKeyDeletion': return cancelKeyDeletion(cmd, state);
    case 'DestroyKey': return destroyKey(cmd, state);
    case 'DisableKeyVersion': return disableKeyVersion(cmd, state);
    case 'EnableKeyVersion': return enableKeyVersion(cmd, state);
    case 'DestroyKeyVersion': return destroyKeyVersion(cmd, state);
    case 'MarkKeyVersionCompromised': return markKeyVersionCompromised(cmd, state);
    case 'CreateAlias': return createAlias(cmd, state);
    case 'DeleteAlias': return deleteAlias(cmd, state);
    case 'TagKey': return tagKey(cmd, state);
    case 'UntagKey': return untagKey(cmd, state);
    case 'UpdateDescription': return updateDescription(cmd, state);
    case 'EnableKeyRotation': return enableKeyRotation(cmd, state, limits);
    case 'DisableKeyRotation': return disableKeyRotation(cmd, state);
    case 'IssueImportParameters': return issueImportParameters(cmd, state, limits);
    case 'ImportKeyMaterial': return importKeyMaterial(cmd, state);
    case 'ExpireImportToken': return expireImportToken(cmd, state);
    default: return assertNever(cmd);
  }
};
