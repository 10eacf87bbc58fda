import type { KeyEvent } from './key.events';
import type { ExistingKeyState, KeyState, VersionState } from './key.state';
import { initialState } from './key.state';

/**
 * Folds one event into the state. Total: an event is a fact, so it never rejects. An event that cannot
 * apply (a version event for an unknown version, anything but KeyCreated before the key exists) is
 * ignored rather than thrown, so a replay of any log always completes; the decider never emits such events.
 */
export const evolve = (state: KeyState, event: KeyEvent): KeyState => {
  if (event.type === 'KeyCreated') {
    if (state.status !== 'Absent') return state;
    const d = event.data;
    return {
      status: d.origin === 'EXTERNAL' ? 'PendingImport' : 'Enabled',
      keyId: d.keyId, tenant: d.tenant, spec: d.spec, usage: d.usage, origin: d.origin,
      description: d.description, tags: { ...d.tags }, requiredContext: { ...d.requiredContext }, createdAt: d.createdAt,
      versions: new Map(), primary: null, highestVersion: 0, aliases: new Set(), rotation: { enabled: false },
      lastRotatedAt: null, deletion: null, revocation: null, destroyedAt: null, importTokens: new Map(),
    };
  }
  if (state.status === 'Absent') return state;
  return evolveExisting(state, event);
};

const evolveExisting = (s: ExistingKeyState, e: Exclude<KeyEvent, { type: 'KeyCreated' }>): ExistingKeyState => {
  switch (e.type) {
    case 'KeyVersionAdded':
      return addVersion(s, { ...e.data, status: 'Enabled', origin: s.origin }, e.data.isPrimary);
    case 'KeyMaterialImported': {
      const next = addVersion(s, { ...e.data, createdAt: e.data.importedAt, status: 'Enabled', origin: 'EXTERNAL' }, e.data.isPrimary);
      return {
        ...next,
        status: s.status === 'PendingImport' ? 'Enabled' : s.status,
        importTokens: setToken(s, e.data.tokenId, 'Consumed'),
      };
    }
    case 'PrimaryVersionChanged':
      return s.versions.has(e.data.to) ? { ...s, primary: e.data.to } : s;
    case 'KeyVersionDisabled':
      return setVersionStatus(s, e.data.version, 'Disabled');
    case 'KeyVersionEnabled':
      return setVersionStatus(s, e.data.version, 'Enabled');
    case 'KeyVersionDestroyed':
      return setVersionStatus(s, e.data.version, 'Destroyed');
    case 'KeyVersionCompromised':
      return setVersionStatus(s, e.data.version, 'Compromised');
    case 'KeyEnabled':
      return { ...s, status: 'Enabled' };
    case 'KeyDisabled':
      return { ...s, status: 'Disabled' };
    case 'KeyRevoked':
      return { ...s, status: 'Compromised', revocation: { reason: e.data.reason, revokedAt: e.data.revokedAt } };
    case 'KeyDeletionScheduled':
      return { ...s, status: 'PendingDeletion', deletion: { deletionDate: e.data.deletionDate, pendingWindowDays: e.data.pendingWindowDays } };
    case 'KeyDeletionCancelled':
      return { ...s, status: e.data.restoredStatus, deletion: null };
    case 'KeyDestroyed': {
      const versions = new Map<number, VersionState>();
      for (const [n, v] of s.versions) versions.set(n, { ...v, status: 'Destroyed' });
      return { ...s, status: 'Destroyed', versions, aliases: new Set(), deletion: null, rotation: { enabled: false }, destroyedAt: e.data.destroyedAt };
    }
    case 'AliasCreated':
      return { ...s, aliases: new Set([...s.aliases, e.data.alias]) };
    case 'AliasDeleted': {
      const aliases = new Set(s.aliases);
      aliases.delete(e.data.alias);
      return { ...s, aliases };
    }
    case 'KeyTagged':
      return { ...s, tags: { ...s.tags, ...e.data.tags } };
    case 'KeyUntagged': {
      const tags: Record<string, string> = { ...s.tags };
      for (const k of e.data.tagKeys) delete tags[k];
      return { ...s, tags };
    }
    case 'KeyDescriptionUpdated':
      return { ...s, description: e.data.description };
    case 'KeyRotationEnabled':
      return { ...s, rotation: { enabled: true, periodDays: e.data.periodDays, nextRotationAt: e.data.nextRotationAt } };
    case 'KeyRotationDisabled':
      return { ...s, rotation: { enabled: false } };
    case 'KeyRotated': {
      const { nextRotationAt } = e.data;
      const rotation = s.rotation.enabled && nextRotationAt !== null ? { ...s.rotation, nextRotationAt } : s.rotation;
      return { ...s, lastRotatedAt: e.data.rotatedAt, rotation };
    }
    case 'ImportParametersIssued': {
      const { tokenId, wrappingAlgorithm, wrappingKeySpec, expiresAt } = e.data;
      const importTokens = new Map(s.importTokens);
      importTokens.set(tokenId, { tokenId, wrappingAlgorithm, wrappingKeySpec, expiresAt, status: 'Issued' });
      return { ...s, importTokens };
    }
    case 'ImportTokenExpired':
      return { ...s, importTokens: setToken(s, e.data.tokenId, 'Expired') };
    default: {
      // Compile-time exhaustiveness; at run time an event type from a newer writer is skipped, not thrown.
      const unknownEvent: never = e;
      void unknownEvent;
      return s;
    }
  }
};

const addVersion = (s: ExistingKeyState, v: VersionState, isPrimary: boolean): ExistingKeyState => {
  const { version, status, materialRef, fingerprint, origin, createdAt } = v;
  if (s.versions.has(version) || version <= s.highestVersion) return s; // numbers are never reused
  const versions = new Map(s.versions);
  versions.set(version, { version, status, materialRef, fingerprint, origin, createdAt });
  return {
    ...s,
    versions,
    highestVersion: Math.max(s.highestVersion, version),
    primary: isPrimary ? version : s.primary,
  };
};

const setVersionStatus = (s: ExistingKeyState, version: number, status: VersionState['status']): ExistingKeyState => {
  const current = s.versions.get(version);
  if (current === undefined) return s;
  const versions = new Map(s.versions);
  versions.set(version, { ...current, status });
  return { ...s, versions };
};

const setToken = (s: ExistingKeyState, tokenId: string, status: 'Consumed' | 'Expired') => {
  const token = s.importTokens.get(tokenId);
  if (token === undefined) return s.importTokens;
  const importTokens = new Map(s.importTokens);
  importTokens.set(tokenId, { ...token, status });
  return importTokens;
};

/** Folds a whole stream from `initialState`. */
export const foldKeyEvents = (events: readonly KeyEvent[], from: KeyState = initialState): KeyState =>
  events.reduce(evolve, from);
