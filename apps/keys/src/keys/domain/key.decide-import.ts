import type { ExpireImportToken, ImportKeyMaterial, IssueImportParameters } from './key.commands';
import { MAX_ID_LENGTH, type KeyLifecycleLimits } from './key.limits';
import { accept, reject, type Decision } from './key.rejections';
import type { KeyState } from './key.state';
import { WRAPPING_ALGORITHMS, WRAPPING_KEY_SPECS, type KeyStatus } from './key.types';
import { ANY_LIVE_STATUS, isRejection, loadKey, materialRejection } from './key.decide-support';
import { addHours, isAtOrBefore, isOneOf, textProblem } from './key.validation';

// BYOK (AWS GetParametersForImport / ImportKeyMaterial). The first import gives a PendingImport key its
// primary version and enables it; later imports add staged, non-primary versions that an operator
// promotes with SetPrimaryVersion once data owners are ready.
const IMPORT_STATUSES: readonly KeyStatus[] = ['PendingImport', 'Enabled', 'Disabled'];

export const issueImportParameters = (cmd: IssueImportParameters, s: KeyState, limits: KeyLifecycleLimits): Decision => {
  const { keyId, tokenId, wrappingAlgorithm, wrappingKeySpec } = cmd.data;
  const key = loadKey(s, keyId, 'IssueImportParameters', IMPORT_STATUSES);
  if (isRejection(key)) return reject(key);
  if (key.origin !== 'EXTERNAL') return reject({ code: 'ORIGIN_MISMATCH', keyId, origin: key.origin, operation: 'IssueImportParameters' });
  const idProblem = textProblem(tokenId, 1, MAX_ID_LENGTH);
  if (idProblem !== null) return reject({ code: 'INVALID_ARGUMENT', keyId, field: 'tokenId', problem: idProblem });
  if (!isOneOf(WRAPPING_ALGORITHMS, wrappingAlgorithm))
    return reject({ code: 'INVALID_ARGUMENT', keyId, field: 'wrappingAlgorithm', problem: `must be one of ${WRAPPING_ALGORITHMS.join(', ')}` });
  if (!isOneOf(WRAPPING_KEY_SPECS, wrappingKeySpec))
    return reject({ code: 'INVALID_ARGUMENT', keyId, field: 'wrappingKeySpec', problem: `must be one of ${WRAPPING_KEY_SPECS.join(', ')}` });
  if (key.importTokens.has(tokenId)) return reject({ code: 'IMPORT_TOKEN_INVALID', keyId, tokenId, problem: 'DUPLICATE_TOKEN_ID' });
  const now = cmd.meta.now;
  return accept({
    type: 'ImportParametersIssued',
    data: { keyId, tokenId, wrappingAlgorithm, wrappingKeySpec, issuedAt: now, expiresAt: addHours(now, limits.importTokenValidityHours) },
    meta: cmd.meta,
  });
};

/** Tokens are bound to the key by living in its state: a token of another key is UNKNOWN_TOKEN here. */
export const importKeyMaterial = (cmd: ImportKeyMaterial, s: KeyState): Decision => {
  const { keyId, tokenId, wrappingAlgorithm, materialRef, fingerprint } = cmd.data;
  const key = loadKey(s, keyId, 'ImportKeyMaterial', IMPORT_STATUSES);
  if (isRejection(key)) return reject(key);
  if (key.origin !== 'EXTERNAL') return reject({ code: 'ORIGIN_MISMATCH', keyId, origin: key.origin, operation: 'ImportKeyMaterial' });
  const token = key.importTokens.get(tokenId);
  if (token === undefined) return reject({ code: 'IMPORT_TOKEN_INVALID', keyId, tokenId, problem: 'UNKNOWN_TOKEN' });
  if (token.status === 'Consumed') return reject({ code: 'IMPORT_TOKEN_USED', keyId, tokenId });
  const now = cmd.meta.now;
  if (token.status === 'Expired' || isAtOrBefore(token.expiresAt, now))
    return reject({ code: 'IMPORT_TOKEN_EXPIRED', keyId, tokenId, expiresAt: token.expiresAt });
  if (token.wrappingAlgorithm !== wrappingAlgorithm) return reject({ code: 'IMPORT_TOKEN_INVALID', keyId, tokenId, problem: 'ALGORITHM_MISMATCH' });
  const bad = materialRejection(keyId, cmd.data);
  if (bad !== null) return reject(bad);
  return accept({
    type: 'KeyMaterialImported',
    data: { keyId, tokenId, version: key.highestVersion + 1, materialRef, fingerprint, isPrimary: key.primary === null, importedAt: now },
    meta: cmd.meta,
  });
};

/** Idempotent: expiring a consumed or already expired token changes nothing. */
export const expireImportToken = (cmd: ExpireImportToken, s: KeyState): Decision => {
  const { keyId, tokenId } = cmd.data;
  const key = loadKey(s, keyId, 'ExpireImportToken', [...ANY_LIVE_STATUS, 'Destroyed']);
  if (isRejection(key)) return reject(key);
  const token = key.importTokens.get(tokenId);
  if (token === undefined) return reject({ code: 'IMPORT_TOKEN_INVALID', keyId, tokenId, problem: 'UNKNOWN_TOKEN' });
  if (token.status !== 'Issued') return accept();
  return accept({ type: 'ImportTokenExpired', data: { keyId, tokenId }, meta: cmd.meta });
};
