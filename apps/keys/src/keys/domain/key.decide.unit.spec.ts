import type { KeyCommandType } from './key.commands';
import { describeRejection } from './key.describe';
import { DEFAULT_KEY_LIMITS } from './key.limits';
import { KEY_REJECTION_CODES, type KeyRejectionCode } from './key.rejections';
import { asKeyId } from './key.types';
import {
  KEY, T0, active, at, cmd, created, createdExternal, createdHmac, ev, given, material, rotated, seenCodes, seenCommands,
  versionAdded,
} from './key.test-kit';

const T1 = '2026-01-31T00:00:00.000Z'; // T0 + 30 days
const disabled = [...active, ev('KeyDisabled', {})];
const pendingDeletion = [...active, ev('KeyDeletionScheduled', { deletionDate: T1, pendingWindowDays: 30, scheduledAt: T0 })];
const revoked = [...active, ev('KeyRevoked', { reason: 'leaked', revokedAt: T0 })];
const destroyed = [...pendingDeletion, ev('KeyDestroyed', { destroyedAt: T1 })];
const twoVersions = [...active, ...rotated(1, 2)]; // primary 2, version 1 decrypt-only
const token = (tokenId = 'tok-1', expiresAt = '2026-01-02T00:00:00.000Z') =>
  ev('ImportParametersIssued', { tokenId, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_4096', issuedAt: T0, expiresAt });
const importCmd = (overrides: object = {}, now = '2026-01-01T01:00:00.000Z') =>
  cmd('ImportKeyMaterial', { tokenId: 'tok-1', wrappingAlgorithm: 'RSAES_OAEP_SHA_256', ...material(9), ...overrides }, at(now));
const createCmd = (overrides: object = {}) =>
  cmd('CreateKey', {
    tenant: 't1', spec: 'SYMMETRIC_DEFAULT', usage: 'ENCRYPT_DECRYPT', origin: 'EKM', requiredContext: { collection: 'docs' },
    initialVersion: material(1), ...overrides,
  });

describe('CreateKey', () => {
  it('creates an EKM key with version 1 as primary', () => {
    const w = given().when(createCmd());
    w.then(created, versionAdded(1));
    expect(w.state()).toMatchObject({ status: 'Enabled', primary: 1, highestVersion: 1 });
  });
  it('creates an EXTERNAL key waiting for its material', () => {
    const w = given().when(createCmd({ origin: 'EXTERNAL', initialVersion: undefined, requiredContext: {} }));
    w.then(createdExternal);
    expect(w.state()).toMatchObject({ status: 'PendingImport', primary: null });
  });
  it('refuses an existing key id', () => given(...active).when(createCmd()).thenRejects('KEY_ALREADY_EXISTS', { status: 'Enabled' }));
  it('refuses a usage the spec does not support', () =>
    given().when(createCmd({ spec: 'HMAC_256' })).thenRejects('UNSUPPORTED_FOR_SPEC', { spec: 'HMAC_256' }));
  it('refuses EKM material for an EXTERNAL key', () =>
    given().when(createCmd({ origin: 'EXTERNAL' })).thenRejects('ORIGIN_MISMATCH', { origin: 'EXTERNAL' }));
  it('refuses an EKM key without material', () =>
    given().when(createCmd({ initialVersion: undefined })).thenRejects('INVALID_ARGUMENT', { field: 'initialVersion' }));
  it.each([
    [{ spec: 'AES_128' }, 'spec'], [{ tenant: '' }, 'tenant'], [{ requiredContext: { collection: '' } }, 'requiredContext'],
    [{ description: 'x'.repeat(8193) }, 'description'], [{ initialVersion: { materialRef: '', fingerprint: 'f' } }, 'materialRef'],
  ])('refuses invalid input %j', (overrides, field) => given().when(createCmd(overrides)).thenRejects('INVALID_ARGUMENT', { field }));
  it('refuses a command without a valid time', () =>
    given().when({ ...createCmd(), meta: at('yesterday') }).thenRejects('INVALID_ARGUMENT', { field: 'meta.now' }));
  it('throws when given the state of another key (the caller loaded the wrong stream)', () =>
    expect(() => given(...active).when(cmd('EnableKey', { keyId: asKeyId('k_other') }))).toThrow(/programmer error/));
  it('refuses reserved and oversized tag sets', () => {
    given().when(createCmd({ tags: { 'aws:x': 'y' } })).thenRejects('INVALID_TAG', { tagKey: 'aws:x' });
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, 'v']));
    given().when(createCmd({ tags: many })).thenRejects('INVALID_TAG');
  });
});

describe('RotateKey', () => {
  it('adds the next version as primary and records the rotation', () => {
    const w = given(...active).when(cmd('RotateKey', { reason: 'ON_DEMAND', ...material(2) }));
    w.then(...rotated(1, 2));
    expect(w.state()).toMatchObject({ primary: 2, lastRotatedAt: T0 });
  });
  it('moves the next periodic rotation', () =>
    given(...active, ev('KeyRotationEnabled', { periodDays: 10, nextRotationAt: '2026-01-11T00:00:00.000Z' }))
      .when(cmd('RotateKey', { reason: 'SCHEDULED', ...material(2) }))
      .then(versionAdded(2), ev('KeyRotated', { from: 1, to: 2, reason: 'SCHEDULED', rotatedAt: T0, nextRotationAt: '2026-01-11T00:00:00.000Z' })));
  it('never reuses a destroyed version number', () =>
    given(...twoVersions, ev('KeyVersionDisabled', { version: 1 }), ev('KeyVersionDestroyed', { version: 1, destroyedAt: T0 }))
      .when(cmd('RotateKey', { reason: 'ON_DEMAND', ...material(3) })).then(...rotated(2, 3)));
  it('refuses an unknown key', () => given().when(cmd('RotateKey', { reason: 'ON_DEMAND', ...material(2) })).thenRejects('KEY_NOT_FOUND', { keyId: KEY }));
  it('refuses a disabled key', () =>
    given(...disabled).when(cmd('RotateKey', { reason: 'SCHEDULED', ...material(2) })).thenRejects('INVALID_KEY_STATE', { status: 'Disabled' }));
  it('refuses EXTERNAL keys (their versions come from imports)', () =>
    given(createdExternal, token(), ev('KeyMaterialImported', { tokenId: 'tok-1', version: 1, ...material(1), isPrimary: true, importedAt: T0 }))
      .when(cmd('RotateKey', { reason: 'ON_DEMAND', ...material(2) })).thenRejects('ORIGIN_MISMATCH'));
  it('refuses a budget rotation for HMAC keys', () =>
    given(createdHmac, versionAdded(1)).when(cmd('RotateKey', { reason: 'BUDGET', ...material(2) })).thenRejects('UNSUPPORTED_FOR_SPEC'));
});

describe('SetPrimaryVersion', () => {
  it('promotes an enabled older version', () =>
    given(...twoVersions).when(cmd('SetPrimaryVersion', { version: 1 })).then(ev('PrimaryVersionChanged', { from: 2, to: 1 })));
  it('is a no-op for the current primary', () => given(...twoVersions).when(cmd('SetPrimaryVersion', { version: 2 })).then());
  it('refuses unknown, disabled and destroyed versions', () => {
    given(...twoVersions).when(cmd('SetPrimaryVersion', { version: 7 })).thenRejects('VERSION_NOT_FOUND', { version: 7 });
    const off = [...twoVersions, ev('KeyVersionDisabled', { version: 1 })];
    given(...off).when(cmd('SetPrimaryVersion', { version: 1 })).thenRejects('VERSION_DISABLED');
    given(...off, ev('KeyVersionDestroyed', { version: 1, destroyedAt: T0 })).when(cmd('SetPrimaryVersion', { version: 1 })).thenRejects('VERSION_DESTROYED');
  });
});

describe('EnableKey / DisableKey', () => {
  it('disables and re-enables', () => {
    given(...active).when(cmd('DisableKey', {})).then(ev('KeyDisabled', {}));
    given(...disabled).when(cmd('EnableKey', {})).then(ev('KeyEnabled', {}));
  });
  it('treats repeats as no-ops', () => {
    given(...active).when(cmd('EnableKey', {})).then();
    given(...disabled).when(cmd('DisableKey', {})).then();
  });
  it('names the state and the way out when enabling a key pending deletion', () => {
    const w = given(...pendingDeletion).when(cmd('EnableKey', {}));
    w.thenRejects('INVALID_KEY_STATE', { status: 'PendingDeletion' });
    expect(describeRejection(w.rejection()!)).toBe('key k_test is PendingDeletion; EnableKey is not allowed in that state (cancel the deletion first)');
  });
  it('never re-enables a revoked key', () => given(...revoked).when(cmd('EnableKey', {})).thenRejects('INVALID_KEY_STATE', { status: 'Compromised' }));
  it('cannot disable a key without material', () => given(createdExternal).when(cmd('DisableKey', {})).thenRejects('INVALID_KEY_STATE', { status: 'PendingImport' }));
});

describe('RevokeKey', () => {
  it('marks the key Compromised with the reason', () =>
    given(...active).when(cmd('RevokeKey', { reason: 'leaked' })).then(ev('KeyRevoked', { reason: 'leaked', revokedAt: T0 })));
  it('needs a reason', () => given(...active).when(cmd('RevokeKey', { reason: '' })).thenRejects('INVALID_ARGUMENT', { field: 'reason' }));
  it('refuses keys pending deletion', () => given(...pendingDeletion).when(cmd('RevokeKey', { reason: 'x' })).thenRejects('INVALID_KEY_STATE'));
});

describe('ScheduleKeyDeletion / CancelKeyDeletion / DestroyKey', () => {
  it('defaults to a 30-day window', () =>
    given(...active).when(cmd('ScheduleKeyDeletion', {})).then(pendingDeletion[2]));
  it('accepts the bounds and refuses outside them', () => {
    given(...active).when(cmd('ScheduleKeyDeletion', { pendingWindowDays: 7 }))
      .then(ev('KeyDeletionScheduled', { deletionDate: '2026-01-08T00:00:00.000Z', pendingWindowDays: 7, scheduledAt: T0 }));
    for (const days of [6, 31, 7.5])
      given(...active).when(cmd('ScheduleKeyDeletion', { pendingWindowDays: days })).thenRejects('DELETION_WINDOW_OUT_OF_RANGE', { min: 7, max: 30 });
  });
  it('lets tests configure a shorter minimum', () =>
    given(...active).when(cmd('ScheduleKeyDeletion', { pendingWindowDays: 0 }), { ...DEFAULT_KEY_LIMITS, minPendingWindowDays: 0 })
      .then(ev('KeyDeletionScheduled', { deletionDate: T0, pendingWindowDays: 0, scheduledAt: T0 })));
  it('refuses scheduling twice', () => given(...pendingDeletion).when(cmd('ScheduleKeyDeletion', {})).thenRejects('INVALID_KEY_STATE'));
  it('cancel returns to Disabled, but a revoked key stays Compromised', () => {
    given(...pendingDeletion).when(cmd('CancelKeyDeletion', {})).then(ev('KeyDeletionCancelled', { restoredStatus: 'Disabled' }));
    given(...revoked, ev('KeyDeletionScheduled', { deletionDate: T1, pendingWindowDays: 30, scheduledAt: T0 }))
      .when(cmd('CancelKeyDeletion', {})).then(ev('KeyDeletionCancelled', { restoredStatus: 'Compromised' }));
    given(createdExternal, ev('KeyDeletionScheduled', { deletionDate: T1, pendingWindowDays: 30, scheduledAt: T0 }))
      .when(cmd('CancelKeyDeletion', {})).then(ev('KeyDeletionCancelled', { restoredStatus: 'PendingImport' }));
  });
  it('cancel needs a scheduled deletion', () => given(...active).when(cmd('CancelKeyDeletion', {})).thenRejects('INVALID_KEY_STATE', { status: 'Enabled' }));
  it('destroys only once the deletion date has passed, releasing aliases', () => {
    const withAlias = [...active, ev('AliasCreated', { alias: 'alias/docs' }), ...pendingDeletion.slice(2)];
    given(...withAlias).when(cmd('DestroyKey', {}, at('2026-01-30T23:59:59.999Z')))
      .thenRejects('DELETION_WINDOW_NOT_ELAPSED', { deletionDate: T1, now: '2026-01-30T23:59:59.999Z' });
    const w = given(...withAlias).when(cmd('DestroyKey', {}, at(T1)));
    w.then(ev('AliasDeleted', { alias: 'alias/docs' }, at(T1)), ev('KeyDestroyed', { destroyedAt: T1 }, at(T1)));
    expect(w.state()).toMatchObject({ status: 'Destroyed', aliases: new Set() });
  });
  it('refuses destroying a key not pending deletion', () => given(...active).when(cmd('DestroyKey', {})).thenRejects('INVALID_KEY_STATE'));
});

describe('key versions', () => {
  it('disables, enables and destroys a non-primary version', () => {
    given(...twoVersions).when(cmd('DisableKeyVersion', { version: 1 })).then(ev('KeyVersionDisabled', { version: 1 }));
    const off = [...twoVersions, ev('KeyVersionDisabled', { version: 1 })];
    given(...off).when(cmd('EnableKeyVersion', { version: 1 })).then(ev('KeyVersionEnabled', { version: 1 }));
    given(...off).when(cmd('DestroyKeyVersion', { version: 1 })).then(ev('KeyVersionDestroyed', { version: 1, destroyedAt: T0 }));
    given(...off).when(cmd('DisableKeyVersion', { version: 1 })).then();
    given(...twoVersions).when(cmd('EnableKeyVersion', { version: 1 })).then();
  });
  it('protects the primary', () => {
    given(...twoVersions).when(cmd('DisableKeyVersion', { version: 2 })).thenRejects('PRIMARY_VERSION_CANNOT_BE_DISABLED', { version: 2 });
    given(...twoVersions).when(cmd('DestroyKeyVersion', { version: 2 })).thenRejects('PRIMARY_VERSION_CANNOT_BE_DESTROYED', { version: 2 });
  });
  it('destroys only disabled versions, and destroyed ones stay destroyed', () => {
    given(...twoVersions).when(cmd('DestroyKeyVersion', { version: 1 })).thenRejects('VERSION_NOT_DISABLED');
    const gone = [...twoVersions, ev('KeyVersionDisabled', { version: 1 }), ev('KeyVersionDestroyed', { version: 1, destroyedAt: T0 })];
    given(...gone).when(cmd('EnableKeyVersion', { version: 1 })).thenRejects('VERSION_DESTROYED');
    given(...gone).when(cmd('DisableKeyVersion', { version: 1 })).thenRejects('VERSION_DESTROYED');
    given(...gone).when(cmd('DestroyKeyVersion', { version: 1 })).then();
  });
  it('marks a non-primary version compromised, once; it never returns to use but can be destroyed', () => {
    const w = given(...twoVersions).when(cmd('MarkKeyVersionCompromised', { version: 1, reason: 'laptop stolen' }));
    w.then(ev('KeyVersionCompromised', { version: 1, reason: 'laptop stolen', compromisedAt: T0 }));
    expect(w.state()).toMatchObject({ status: 'Enabled', primary: 2 });
    const bad = [...twoVersions, ev('KeyVersionCompromised', { version: 1, reason: 'x', compromisedAt: T0 })];
    given(...bad).when(cmd('MarkKeyVersionCompromised', { version: 1, reason: 'again' })).then();
    given(...bad).when(cmd('EnableKeyVersion', { version: 1 })).thenRejects('VERSION_COMPROMISED', { version: 1 });
    given(...bad).when(cmd('DisableKeyVersion', { version: 1 })).thenRejects('VERSION_COMPROMISED', { version: 1 });
    given(...bad).when(cmd('SetPrimaryVersion', { version: 1 })).thenRejects('VERSION_COMPROMISED', { version: 1 });
    given(...bad).when(cmd('DestroyKeyVersion', { version: 1 })).then(ev('KeyVersionDestroyed', { version: 1, destroyedAt: T0 }));
  });
  it('refuses to mark the primary, a destroyed version or a bad reason', () => {
    given(...twoVersions).when(cmd('MarkKeyVersionCompromised', { version: 2, reason: '' })).thenRejects('PRIMARY_VERSION_CANNOT_BE_COMPROMISED', { version: 2 });
    const gone = [...twoVersions, ev('KeyVersionDisabled', { version: 1 }), ev('KeyVersionDestroyed', { version: 1, destroyedAt: T0 })];
    given(...gone).when(cmd('MarkKeyVersionCompromised', { version: 1, reason: '' })).thenRejects('VERSION_DESTROYED');
    given(...twoVersions).when(cmd('MarkKeyVersionCompromised', { version: 1, reason: 'r'.repeat(513) })).thenRejects('INVALID_ARGUMENT', { field: 'reason' });
    given(...twoVersions).when(cmd('MarkKeyVersionCompromised', { version: 9, reason: '' })).thenRejects('VERSION_NOT_FOUND');
  });
  it('refuses unknown versions and keys pending deletion', () => {
    given(...twoVersions).when(cmd('DisableKeyVersion', { version: 3 })).thenRejects('VERSION_NOT_FOUND');
    given(...pendingDeletion).when(cmd('EnableKeyVersion', { version: 1 })).thenRejects('INVALID_KEY_STATE');
  });
});

describe('aliases', () => {
  it('creates and deletes an alias', () => {
    given(...active).when(cmd('CreateAlias', { alias: 'alias/docs-prod' })).then(ev('AliasCreated', { alias: 'alias/docs-prod' }));
    given(...active, ev('AliasCreated', { alias: 'alias/a' })).when(cmd('DeleteAlias', { alias: 'alias/a' })).then(ev('AliasDeleted', { alias: 'alias/a' }));
  });
  it.each(['docs', 'alias/', 'alias/aws/x', 'alias/has space', `alias/${'a'.repeat(251)}`])('refuses the alias %s', (alias) =>
    given(...active).when(cmd('CreateAlias', { alias })).thenRejects('INVALID_ALIAS', { alias }));
  it('refuses a duplicate within the key and an unknown alias', () => {
    given(...active, ev('AliasCreated', { alias: 'alias/a' })).when(cmd('CreateAlias', { alias: 'alias/a' })).thenRejects('ALIAS_ALREADY_EXISTS');
    given(...active).when(cmd('DeleteAlias', { alias: 'alias/a' })).thenRejects('ALIAS_NOT_FOUND');
    given().when(cmd('DeleteAlias', { alias: 'alias/a' })).thenRejects('KEY_NOT_FOUND');
  });
  it('refuses aliases for a destroyed key', () =>
    given(...destroyed).when(cmd('CreateAlias', { alias: 'alias/a' })).thenRejects('INVALID_KEY_STATE', { status: 'Destroyed' }));
});

describe('tags and description', () => {
  const tagged = [...active, ev('KeyTagged', { tags: { team: 'search', env: 'prod' } })];
  it('records only changed tags', () =>
    given(...tagged).when(cmd('TagKey', { tags: { team: 'search', env: 'dev' } })).then(ev('KeyTagged', { tags: { env: 'dev' } })));
  it('treats unchanged tags and absent tag keys as no-ops', () => {
    given(...tagged).when(cmd('TagKey', { tags: { team: 'search' } })).then();
    given(...tagged).when(cmd('UntagKey', { tagKeys: ['nope'] })).then();
  });
  it('untags present keys only', () =>
    given(...tagged).when(cmd('UntagKey', { tagKeys: ['env', 'nope', 'env'] })).then(ev('KeyUntagged', { tagKeys: ['env'] })));
  it('refuses bad tags', () => {
    given(...active).when(cmd('TagKey', { tags: { '': 'x' } })).thenRejects('INVALID_TAG', { tagKey: '' });
    given(...active).when(cmd('UntagKey', { tagKeys: 'env' as never })).thenRejects('INVALID_ARGUMENT', { field: 'tagKeys' });
  });
  it('updates the description', () => {
    given(...active).when(cmd('UpdateDescription', { description: 'docs KEK' })).then(ev('KeyDescriptionUpdated', { description: 'docs KEK' }));
    given(...active).when(cmd('UpdateDescription', { description: '' })).then();
    given(...active).when(cmd('UpdateDescription', { description: 'x'.repeat(8193) })).thenRejects('INVALID_ARGUMENT', { field: 'description' });
  });
});

describe('EnableKeyRotation / DisableKeyRotation', () => {
  it('enables with the default period and disables', () => {
    given(...active).when(cmd('EnableKeyRotation', {})).then(ev('KeyRotationEnabled', { periodDays: 365, nextRotationAt: '2027-01-01T00:00:00.000Z' }));
    const on = [...active, ev('KeyRotationEnabled', { periodDays: 30, nextRotationAt: T1 })];
    given(...on).when(cmd('EnableKeyRotation', { periodDays: 30 })).then();
    given(...on).when(cmd('DisableKeyRotation', {})).then(ev('KeyRotationDisabled', {}));
    given(...active).when(cmd('DisableKeyRotation', {})).then();
  });
  it.each([0, 2561, 1.5])('refuses a period of %s days', (periodDays) =>
    given(...active).when(cmd('EnableKeyRotation', { periodDays })).thenRejects('ROTATION_PERIOD_OUT_OF_RANGE', { min: 1, max: 2560 }));
  it('refuses keys still waiting for material', () => given(createdExternal).when(cmd('EnableKeyRotation', {})).thenRejects('INVALID_KEY_STATE'));
  it('refuses EXTERNAL keys once enabled too', () =>
    given(createdExternal, token(), ev('KeyMaterialImported', { tokenId: 'tok-1', version: 1, ...material(1), isPrimary: true, importedAt: T0 }))
      .when(cmd('EnableKeyRotation', {})).thenRejects('ORIGIN_MISMATCH', { origin: 'EXTERNAL' }));
});

describe('BYOK import', () => {
  const issue = (overrides: object = {}) =>
    cmd('IssueImportParameters', { tokenId: 'tok-1', wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_4096', ...overrides });
  it('issues a single-use token valid for 24 h', () => given(createdExternal).when(issue()).then(token()));
  it('refuses EKM keys, duplicate token ids, unknown algorithms and revoked keys', () => {
    given(...active).when(issue()).thenRejects('ORIGIN_MISMATCH', { origin: 'EKM' });
    given(createdExternal, token()).when(issue()).thenRejects('IMPORT_TOKEN_INVALID', { problem: 'DUPLICATE_TOKEN_ID' });
    given(createdExternal).when(issue({ wrappingAlgorithm: 'RSAES_PKCS1_V1_5' })).thenRejects('INVALID_ARGUMENT', { field: 'wrappingAlgorithm' });
    given(...active).when(importCmd()).thenRejects('ORIGIN_MISMATCH');
  });
  it('first import enables the key with version 1 as primary; later imports are staged', () => {
    const w = given(createdExternal, token()).when(importCmd({ ...material(1) }));
    w.then(ev('KeyMaterialImported', { tokenId: 'tok-1', version: 1, ...material(1), isPrimary: true, importedAt: '2026-01-01T01:00:00.000Z' }, at('2026-01-01T01:00:00.000Z')));
    expect(w.state()).toMatchObject({ status: 'Enabled', primary: 1 });
    const imported = ev('KeyMaterialImported', { tokenId: 'tok-1', version: 1, ...material(1), isPrimary: true, importedAt: T0 });
    given(createdExternal, token(), imported, token('tok-2')).when(importCmd({ tokenId: 'tok-2' }))
      .then(ev('KeyMaterialImported', { tokenId: 'tok-2', version: 2, ...material(9), isPrimary: false, importedAt: '2026-01-01T01:00:00.000Z' }, at('2026-01-01T01:00:00.000Z')));
  });
  it('refuses unknown, used, expired and mismatched tokens', () => {
    given(createdExternal).when(importCmd()).thenRejects('IMPORT_TOKEN_INVALID', { problem: 'UNKNOWN_TOKEN' });
    const imported = ev('KeyMaterialImported', { tokenId: 'tok-1', version: 1, ...material(1), isPrimary: true, importedAt: T0 });
    given(createdExternal, token(), imported).when(importCmd()).thenRejects('IMPORT_TOKEN_USED');
    given(createdExternal, token()).when(importCmd({}, '2026-01-02T00:00:00.000Z')).thenRejects('IMPORT_TOKEN_EXPIRED', { expiresAt: '2026-01-02T00:00:00.000Z' });
    given(createdExternal, token(), ev('ImportTokenExpired', { tokenId: 'tok-1' })).when(importCmd()).thenRejects('IMPORT_TOKEN_EXPIRED');
    given(createdExternal, token()).when(importCmd({ wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256' })).thenRejects('IMPORT_TOKEN_INVALID', { problem: 'ALGORITHM_MISMATCH' });
  });
  it('expires a token once; unknown tokens are refused', () => {
    given(createdExternal, token()).when(cmd('ExpireImportToken', { tokenId: 'tok-1' })).then(ev('ImportTokenExpired', { tokenId: 'tok-1' }));
    given(createdExternal, token(), ev('ImportTokenExpired', { tokenId: 'tok-1' })).when(cmd('ExpireImportToken', { tokenId: 'tok-1' })).then();
    given(createdExternal).when(cmd('ExpireImportToken', { tokenId: 'x' })).thenRejects('IMPORT_TOKEN_INVALID');
  });
});

describe('coverage of this suite', () => {
  // CONTEXT_MISMATCH is a data-plane rejection, covered in key.usage.unit.spec.ts.
  const DATA_PLANE_ONLY: readonly KeyRejectionCode[] = ['CONTEXT_MISMATCH'];
  const ALL_COMMANDS: Record<KeyCommandType, true> = {
    CreateKey: true, RotateKey: true, SetPrimaryVersion: true, EnableKey: true, DisableKey: true, RevokeKey: true,
    ScheduleKeyDeletion: true, CancelKeyDeletion: true, DestroyKey: true, DisableKeyVersion: true, EnableKeyVersion: true,
    DestroyKeyVersion: true, CreateAlias: true, DeleteAlias: true, TagKey: true, UntagKey: true, UpdateDescription: true,
    EnableKeyRotation: true, DisableKeyRotation: true, IssueImportParameters: true, ImportKeyMaterial: true, ExpireImportToken: true,
    MarkKeyVersionCompromised: true,
  };
  it('exercised every command and every command rejection code', () => {
    expect([...seenCommands].sort()).toEqual(Object.keys(ALL_COMMANDS).sort());
    expect([...seenCodes].sort()).toEqual(KEY_REJECTION_CODES.filter((c) => !DATA_PLANE_ONLY.includes(c)).sort());
  });
});
