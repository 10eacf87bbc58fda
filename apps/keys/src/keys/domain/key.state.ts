import type {
  KeyId, KeyOrigin, KeySpec, KeyStatus, KeyUsage, StringMap, VersionStatus, WrappingAlgorithm, WrappingKeySpec,
} from './key.types';

export interface VersionState {
  readonly version: number;
  readonly status: VersionStatus;
  /** Row of `key_material` holding the wrapped material; not secret, never returned to callers. */
  readonly materialRef: string;
  readonly fingerprint: string;
  readonly origin: KeyOrigin;
  readonly createdAt: string;
}

export interface ImportTokenState {
  readonly tokenId: string;
  readonly wrappingAlgorithm: WrappingAlgorithm;
  readonly wrappingKeySpec: WrappingKeySpec;
  readonly expiresAt: string;
  readonly status: 'Issued' | 'Consumed' | 'Expired';
}

export type RotationState =
  | { readonly enabled: false }
  | { readonly enabled: true; readonly periodDays: number; readonly nextRotationAt: string };

/** A key that exists in the log (whatever its status, including Destroyed: its history stays). */
export interface ExistingKeyState {
  readonly status: KeyStatus;
  readonly keyId: KeyId;
  readonly tenant: string;
  readonly spec: KeySpec;
  readonly usage: KeyUsage;
  readonly origin: KeyOrigin;
  readonly description: string;
  readonly tags: StringMap;
  readonly requiredContext: StringMap;
  readonly createdAt: string;
  readonly versions: ReadonlyMap<number, VersionState>;
  /** The version that encrypts; null before the first version (PendingImport). */
  readonly primary: number | null;
  /** Highest version number ever added: the next one is `highestVersion + 1`, so numbers are never reused. */
  readonly highestVersion: number;
  readonly aliases: ReadonlySet<string>;
  readonly rotation: RotationState;
  readonly lastRotatedAt: string | null;
  readonly deletion: { readonly deletionDate: string; readonly pendingWindowDays: number } | null;
  readonly revocation: { readonly reason: string; readonly revokedAt: string } | null;
  readonly destroyedAt: string | null;
  readonly importTokens: ReadonlyMap<string, ImportTokenState>;
}

export type KeyState = { readonly status: 'Absent' } | ExistingKeyState;

export const initialState: KeyState = { status: 'Absent' };

export const isExistingKey = (s: KeyState): s is ExistingKeyState => s.status !== 'Absent';
