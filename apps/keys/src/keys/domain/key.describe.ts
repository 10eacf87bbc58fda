import { assertNever } from './key.assert';
import type { KeyRejection } from './key.rejections';
import type { KeyStatus } from './key.types';

/** What an operator can do about a key in `status` that refuses `operation`, for INVALID_KEY_STATE messages. */
const stateHint = (status: KeyStatus, operation: string): string => {
  switch (status) {
    case 'PendingImport': return 'import key material first';
    case 'PendingDeletion':
      return operation === 'ScheduleKeyDeletion' ? 'its deletion is already scheduled' : 'cancel the deletion first';
    case 'Compromised': return 'a revoked key never returns to use; create a new key';
    case 'Destroyed': return 'its material is gone for good';
    case 'Enabled':
    case 'Disabled':
      if (operation === 'DestroyKey') return 'schedule its deletion first';
      if (operation === 'CancelKeyDeletion') return 'no deletion is scheduled';
      return status === 'Disabled' ? 'enable it first' : 'disable it first';
    default: return assertNever(status);
  }
};

const list = (names: readonly string[]): string => names.map((n) => JSON.stringify(n)).join(', ');

/**
 * A Vault-style message naming the rule and the values involved. Safe to return and log: rejections
 * never hold material, and context mismatches name keys, not values.
 */
export const describeRejection = (r: KeyRejection): string => {
  switch (r.code) {
    case 'KEY_NOT_FOUND': return `key ${r.keyId} does not exist`;
    case 'KEY_ALREADY_EXISTS': return `key ${r.keyId} already exists (${r.status}); key ids are never reused`;
    case 'INVALID_KEY_STATE': return `key ${r.keyId} is ${r.status}; ${r.operation} is not allowed in that state (${stateHint(r.status, r.operation)})`;
    case 'INVALID_ARGUMENT': return `invalid ${r.field} for key ${r.keyId}: ${r.problem}`;
    case 'VERSION_NOT_FOUND': return `key ${r.keyId} has no version ${r.version}`;
    case 'VERSION_DISABLED': return `version ${r.version} of key ${r.keyId} is disabled; enable the version first`;
    case 'VERSION_DESTROYED': return `version ${r.version} of key ${r.keyId} is destroyed; its material is gone for good`;
    case 'VERSION_NOT_DISABLED': return `version ${r.version} of key ${r.keyId} is enabled; disable the version before destroying it`;
    case 'PRIMARY_VERSION_CANNOT_BE_DISABLED':
      return `version ${r.version} is the primary of key ${r.keyId}; rotate or promote another version first`;
    case 'VERSION_COMPROMISED':
      return `version ${r.version} of key ${r.keyId} is compromised: it never encrypts, never returns to use, and decrypts only with the keys:DecryptCompromised permission; re-encrypt its data to the primary (ReEncrypt)`;
    case 'PRIMARY_VERSION_CANNOT_BE_COMPROMISED':
      return `version ${r.version} is the primary of key ${r.keyId}; rotate the key first (the new primary encrypts), then mark version ${r.version} compromised`;
    case 'PRIMARY_VERSION_CANNOT_BE_DESTROYED':
      return `version ${r.version} is the primary of key ${r.keyId}; rotate or promote another version before destroying it`;
    case 'DELETION_WINDOW_OUT_OF_RANGE':
      return `pending window of ${r.pendingWindowDays} days for key ${r.keyId} is outside ${r.min}-${r.max} whole days`;
    case 'DELETION_WINDOW_NOT_ELAPSED': return `key ${r.keyId} cannot be destroyed before its deletion date ${r.deletionDate} (now ${r.now})`;
    case 'INVALID_ALIAS': return `alias ${JSON.stringify(r.alias)} for key ${r.keyId} is invalid: ${r.problem}`;
    case 'ALIAS_ALREADY_EXISTS': return `key ${r.keyId} already has alias ${r.alias}`;
    case 'ALIAS_NOT_FOUND': return `key ${r.keyId} has no alias ${JSON.stringify(r.alias)}`;
    case 'INVALID_TAG': return `tag ${JSON.stringify(r.tagKey)} for key ${r.keyId} is invalid: ${r.problem}`;
    case 'ROTATION_PERIOD_OUT_OF_RANGE':
      return `rotation period of ${r.periodDays} days for key ${r.keyId} is outside ${r.min}-${r.max} whole days`;
    case 'UNSUPPORTED_FOR_SPEC': return `${r.operation} is not supported for ${r.spec} keys${r.keyId === null ? '' : ` (key ${r.keyId})`}`;
    case 'ORIGIN_MISMATCH': return `key ${r.keyId} has origin ${r.origin}; ${r.operation} is not allowed for it`;
    case 'IMPORT_TOKEN_INVALID': return `import token ${r.tokenId} is not valid for key ${r.keyId} (${TOKEN_PROBLEM[r.problem]})`;
    case 'IMPORT_TOKEN_EXPIRED': return `import token ${r.tokenId} for key ${r.keyId} expired at ${r.expiresAt}; request new import parameters`;
    case 'IMPORT_TOKEN_USED': return `import token ${r.tokenId} for key ${r.keyId} was already used; tokens are single-use`;
    case 'CONTEXT_MISMATCH': {
      const parts = [
        r.missing.length > 0 ? `lacks required entries ${list(r.missing)}` : '',
        r.different.length > 0 ? `has different values for ${list(r.different)}` : '',
      ].filter((p) => p !== '');
      return `encryption context ${parts.join(' and ')}${r.keyId === null ? '' : ` required by key ${r.keyId}`} (purpose binding)`;
    }
    default: return assertNever(r);
  }
};

const TOKEN_PROBLEM = {
  UNKNOWN_TOKEN: 'no such token was issued for this key',
  ALGORITHM_MISMATCH: 'the wrapping algorithm differs from the one the token was issued for',
  DUPLICATE_TOKEN_ID: 'a token with this id was already issued',
} as const;
