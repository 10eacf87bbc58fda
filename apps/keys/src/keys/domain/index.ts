// The key-lifecycle domain: pure decider, events, state and data-plane rules. No I/O.
export type {
  Brand, KeyId, KeySpec, KeyUsage, KeyOrigin, KeyStatus, VersionStatus, RotationReason, WrappingAlgorithm,
  WrappingKeySpec, CryptoOperation, StringMap, VersionMaterial, CommandMeta,
} from './key.types';
export {
  asKeyId, KEY_SPECS, KEY_USAGES, USAGE_OF_SPEC, KEY_ORIGINS, KEY_STATUSES, VERSION_STATUSES, ROTATION_REASONS,
  WRAPPING_ALGORITHMS, WRAPPING_KEY_SPECS, CRYPTO_OPERATIONS,
} from './key.types';
export type { KeyEvent, KeyEventType, KeyEventOf } from './key.events';
export { KEY_EVENT_TYPES } from './key.events';
export type {
  Command, KeyCommand, KeyCommandType, CreateKey, RotateKey, SetPrimaryVersion, EnableKey, DisableKey, RevokeKey,
  ScheduleKeyDeletion, CancelKeyDeletion, DestroyKey, DisableKeyVersion, EnableKeyVersion, DestroyKeyVersion,
  CreateAlias, DeleteAlias, TagKey, UntagKey, UpdateDescription, EnableKeyRotation, DisableKeyRotation,
  IssueImportParameters, ImportKeyMaterial, ExpireImportToken, MarkKeyVersionCompromised,
} from './key.commands';
export type { KeyState, ExistingKeyState, VersionState, ImportTokenState, RotationState } from './key.state';
export { initialState, isExistingKey } from './key.state';
export { evolve, foldKeyEvents } from './key.evolve';
export { decide } from './key.decide';
export type { KeyRejection, KeyRejectionCode, Decision } from './key.rejections';
export { KEY_REJECTION_CODES } from './key.rejections';
export { describeRejection } from './key.describe';
export type { ImportTokenProblem } from './key.validation';
export type { KeyLifecycleLimits } from './key.limits';
export {
  DEFAULT_KEY_LIMITS, GCM_INVOCATION_LIMIT, DEFAULT_GCM_BUDGET, DEFAULT_BUDGET_THRESHOLD, MAX_TAGS,
  MAX_DESCRIPTION_LENGTH,
} from './key.limits';
export type { VersionChoice, Check, DecryptOptions } from './key.usage';
export {
  selectEncryptVersion, checkDecryptAllowed, checkPurposeBinding, checkUsage, needsBudgetRotation, isBudgetExhausted,
} from './key.usage';
export type { KeyInfo, KeyVersionInfo } from './key.info';
export { toKeyInfo } from './key.info';
