import type { Event } from '@ekm/event-store';
import type {
  KeyId, KeyOrigin, KeySpec, KeyUsage, RotationReason, StringMap, WrappingAlgorithm, WrappingKeySpec,
} from './key.types';

/**
 * Every fact of a key's life, as plain data (Emmett). No event carries key material, plaintext or
 * wrapped blobs: versions are named by `materialRef` (a row of `key_material`) and a one-way fingerprint.
 * Times are ISO-8601 strings taken from the command's `meta.now`.
 *
 * The AES-GCM invocation counter is NOT in the log: it is reserved in blocks in its own table
 * (`gcm_budget`) because appending an event per encryption would cost a commit per call. The domain only owns the
 * pure threshold rules (`needsBudgetRotation`, `isBudgetExhausted`); crossing the threshold shows up
 * here as `KeyRotated` with reason `BUDGET`.
 */
export type KeyEvent =
  | Event<'KeyCreated', {
      keyId: KeyId; tenant: string; spec: KeySpec; usage: KeyUsage; origin: KeyOrigin;
      description: string; tags: StringMap;
      /** Purpose binding: entries every request's encryption context must contain with equal values. */
      requiredContext: StringMap;
      createdAt: string;
    }>
  | Event<'KeyVersionAdded', {
      keyId: KeyId; version: number; materialRef: string; fingerprint: string;
      /** True when this version became the primary (the only version that encrypts). */
      isPrimary: boolean; createdAt: string;
    }>
  | Event<'PrimaryVersionChanged', { keyId: KeyId; from: number; to: number }>
  | Event<'KeyVersionDisabled', { keyId: KeyId; version: number }>
  | Event<'KeyVersionEnabled', { keyId: KeyId; version: number }>
  /** The application deletes the version's wrapped material in the transaction that appends this. */
  | Event<'KeyVersionDestroyed', { keyId: KeyId; version: number; destroyedAt: string }>
  /** Terminal for the version's use: it never encrypts, and decrypts only under an explicit permission. */
  | Event<'KeyVersionCompromised', { keyId: KeyId; version: number; reason: string; compromisedAt: string }>
  | Event<'KeyEnabled', { keyId: KeyId }>
  | Event<'KeyDisabled', { keyId: KeyId }>
  | Event<'KeyRevoked', { keyId: KeyId; reason: string; revokedAt: string }>
  | Event<'KeyDeletionScheduled', { keyId: KeyId; deletionDate: string; pendingWindowDays: number; scheduledAt: string }>
  /** `restoredStatus`: Disabled, except that a revoked key stays Compromised and a key without material stays PendingImport. */
  | Event<'KeyDeletionCancelled', { keyId: KeyId; restoredStatus: 'Disabled' | 'Compromised' | 'PendingImport' }>
  /** Crypto-shredding: all wrapped material of the key is deleted in the same transaction. */
  | Event<'KeyDestroyed', { keyId: KeyId; destroyedAt: string }>
  | Event<'AliasCreated', { keyId: KeyId; alias: string }>
  | Event<'AliasDeleted', { keyId: KeyId; alias: string }>
  /** Only the tags that were added or changed. */
  | Event<'KeyTagged', { keyId: KeyId; tags: StringMap }>
  /** Only tag keys that were present. */
  | Event<'KeyUntagged', { keyId: KeyId; tagKeys: readonly string[] }>
  | Event<'KeyDescriptionUpdated', { keyId: KeyId; description: string }>
  | Event<'KeyRotationEnabled', { keyId: KeyId; periodDays: number; nextRotationAt: string }>
  | Event<'KeyRotationDisabled', { keyId: KeyId }>
  /** Follows the `KeyVersionAdded` of `to`. `nextRotationAt` is null when periodic rotation is off. */
  | Event<'KeyRotated', { keyId: KeyId; from: number; to: number; reason: RotationReason; rotatedAt: string; nextRotationAt: string | null }>
  /** The wrapping public key is not a domain fact; the application keeps its private half outside the log. */
  | Event<'ImportParametersIssued', {
      keyId: KeyId; tokenId: string; wrappingAlgorithm: WrappingAlgorithm; wrappingKeySpec: WrappingKeySpec;
      issuedAt: string; expiresAt: string;
    }>
  /** Consumes the token and adds `version`; the first import also enables a PendingImport key. */
  | Event<'KeyMaterialImported', {
      keyId: KeyId; tokenId: string; version: number; materialRef: string; fingerprint: string;
      isPrimary: boolean; importedAt: string;
    }>
  | Event<'ImportTokenExpired', { keyId: KeyId; tokenId: string }>;

export type KeyEventType = KeyEvent['type'];
/** The event of one type, e.g. `KeyEventOf<'KeyRotated'>`. */
export type KeyEventOf<T extends KeyEventType> = Extract<KeyEvent, { type: T }>;

export const KEY_EVENT_TYPES = [
  'KeyCreated', 'KeyVersionAdded', 'PrimaryVersionChanged', 'KeyVersionDisabled', 'KeyVersionEnabled',
  'KeyVersionDestroyed', 'KeyEnabled', 'KeyDisabled', 'KeyRevoked', 'KeyDeletionScheduled',
  'KeyDeletionCancelled', 'KeyDestroyed', 'AliasCreated', 'AliasDeleted', 'KeyTagged', 'KeyUntagged',
  'KeyDescriptionUpdated', 'KeyRotationEnabled', 'KeyRotationDisabled', 'KeyRotated',
  'ImportParametersIssued', 'KeyMaterialImported', 'ImportTokenExpired', 'KeyVersionCompromised',
] as const satisfies readonly KeyEventType[];
// Fails to compile when an event type is added to the union but not to the list.
type MissingEventType = Exclude<KeyEventType, (typeof KEY_EVENT_TYPES)[number]>;
const eventListIsComplete: [MissingEventType] extends [never] ? true : MissingEventType = true;
void eventListIsComplete;
