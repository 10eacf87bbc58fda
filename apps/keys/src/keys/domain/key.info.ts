import type { KeyState } from './key.state';
import type { KeyId, KeyOrigin, KeySpec, KeyStatus, KeyUsage, StringMap, VersionStatus } from './key.types';

/**
 * Everything about a key that is safe to log, return and put in spans (Tink's KeyInfo): no material, no
 * material references, no import token ids. Plain JSON-serializable data.
 */
export interface KeyInfo {
  readonly keyId: KeyId;
  readonly tenant: string;
  readonly status: KeyStatus;
  readonly spec: KeySpec;
  readonly usage: KeyUsage;
  readonly origin: KeyOrigin;
  readonly description: string;
  readonly primaryVersion: number | null;
  readonly versions: readonly KeyVersionInfo[];
  readonly aliases: readonly string[];
  readonly tags: StringMap;
  readonly requiredContext: StringMap;
  readonly rotation: { readonly enabled: false } | { readonly enabled: true; readonly periodDays: number; readonly nextRotationAt: string };
  readonly lastRotatedAt: string | null;
  readonly deletionDate: string | null;
  readonly revokedAt: string | null;
  readonly destroyedAt: string | null;
  readonly createdAt: string;
}

export interface KeyVersionInfo {
  readonly version: number;
  readonly status: VersionStatus;
  readonly isPrimary: boolean;
  readonly fingerprint: string;
  readonly origin: KeyOrigin;
  readonly createdAt: string;
}

/** The material-free view of a key; null when it does not exist. */
export const toKeyInfo = (state: KeyState): KeyInfo | null => {
  if (state.status === 'Absent') return null;
  const versions = [...state.versions.values()]
    .sort((a, b) => a.version - b.version)
    .map(({ version, status, fingerprint, origin, createdAt }) => ({
      version, status, isPrimary: version === state.primary, fingerprint, origin, createdAt,
    }));
  return {
    keyId: state.keyId,
    tenant: state.tenant,
    status: state.status,
    spec: state.spec,
    usage: state.usage,
    origin: state.origin,
    description: state.description,
    primaryVersion: state.primary,
    versions,
    aliases: [...state.aliases].sort(),
    tags: { ...state.tags },
    requiredContext: { ...state.requiredContext },
    rotation: { ...state.rotation },
    lastRotatedAt: state.lastRotatedAt,
    deletionDate: state.deletion?.deletionDate ?? null,
    revokedAt: state.revocation?.revokedAt ?? null,
    destroyedAt: state.destroyedAt,
    createdAt: state.createdAt,
  };
};
