import { describeRejection } from './key.describe';
import { foldKeyEvents } from './key.evolve';
import { toKeyInfo } from './key.info';
import { KEY_REJECTION_CODES, type KeyRejection, type KeyRejectionCode } from './key.rejections';
import { initialState } from './key.state';
import { KEY, T0, active, created, createdHmac, ev, rotated, versionAdded } from './key.test-kit';
import { CRYPTO_OPERATIONS } from './key.types';
import {
  checkDecryptAllowed, checkPurposeBinding, checkUsage, isBudgetExhausted, needsBudgetRotation, selectEncryptVersion,
} from './key.usage';

const allow = { allowCompromised: true };
const deny = { allowCompromised: false };
const twoVersions = foldKeyEvents([...active, ...rotated(1, 2)]);
const codeOf = (r: { ok: boolean; rejection?: KeyRejection }) => r.rejection?.code;

describe('selectEncryptVersion', () => {
  it('picks the primary of an Enabled key', () => {
    expect(selectEncryptVersion(foldKeyEvents(active))).toEqual({ ok: true, version: 1, materialRef: 'mat-1' });
    expect(selectEncryptVersion(twoVersions)).toEqual({ ok: true, version: 2, materialRef: 'mat-2' });
  });
  it.each([
    ['Disabled', [ev('KeyDisabled', {})]],
    ['Compromised', [ev('KeyRevoked', { reason: 'x', revokedAt: T0 })]],
    ['PendingDeletion', [ev('KeyDeletionScheduled', { deletionDate: T0, pendingWindowDays: 7, scheduledAt: T0 })]],
  ])('refuses a %s key', (status, extra) => {
    expect(selectEncryptVersion(foldKeyEvents([...active, ...extra]))).toMatchObject({ ok: false, rejection: { code: 'INVALID_KEY_STATE', status } });
  });
  it('refuses an unknown key', () => expect(codeOf(selectEncryptVersion(initialState, KEY))).toBe('KEY_NOT_FOUND'));
});

describe('checkDecryptAllowed', () => {
  it('lets older enabled versions decrypt', () => expect(checkDecryptAllowed(twoVersions, 1, deny)).toEqual({ ok: true, version: 1, materialRef: 'mat-1' }));
  it('refuses disabled, destroyed and unknown versions', () => {
    const off = foldKeyEvents([...active, ...rotated(1, 2), ev('KeyVersionDisabled', { version: 1 })]);
    expect(codeOf(checkDecryptAllowed(off, 1, allow))).toBe('VERSION_DISABLED');
    const gone = foldKeyEvents([...active, ...rotated(1, 2), ev('KeyVersionDisabled', { version: 1 }), ev('KeyVersionDestroyed', { version: 1, destroyedAt: T0 })]);
    expect(codeOf(checkDecryptAllowed(gone, 1, allow))).toBe('VERSION_DESTROYED');
    expect(codeOf(checkDecryptAllowed(twoVersions, 3, allow))).toBe('VERSION_NOT_FOUND');
  });
  it('refuses Disabled, PendingDeletion and Destroyed keys', () => {
    const scheduled = [...active, ev('KeyDeletionScheduled', { deletionDate: T0, pendingWindowDays: 7, scheduledAt: T0 })];
    for (const events of [[...active, ev('KeyDisabled', {})], scheduled, [...scheduled, ev('KeyDestroyed', { destroyedAt: T0 })]])
      expect(codeOf(checkDecryptAllowed(foldKeyEvents(events), 1, allow))).toBe('INVALID_KEY_STATE');
    expect(codeOf(checkDecryptAllowed(initialState, 1, allow, KEY))).toBe('KEY_NOT_FOUND');
  });
  it('decrypts with a compromised version only under explicit permission; it never encrypts', () => {
    const bad = foldKeyEvents([...active, ...rotated(1, 2), ev('KeyVersionCompromised', { version: 1, reason: 'x', compromisedAt: T0 })]);
    expect(codeOf(checkDecryptAllowed(bad, 1, deny))).toBe('VERSION_COMPROMISED');
    expect(checkDecryptAllowed(bad, 1, allow)).toEqual({ ok: true, version: 1, materialRef: 'mat-1' });
    expect(checkDecryptAllowed(bad, 2, deny).ok).toBe(true);
    expect(selectEncryptVersion(bad)).toMatchObject({ ok: true, version: 2 });
  });
  it('decrypts with a revoked key only under explicit permission', () => {
    const revoked = foldKeyEvents([...active, ev('KeyRevoked', { reason: 'x', revokedAt: T0 })]);
    expect(codeOf(checkDecryptAllowed(revoked, 1, deny))).toBe('INVALID_KEY_STATE');
    expect(checkDecryptAllowed(revoked, 1, allow).ok).toBe(true);
  });
});

describe('checkPurposeBinding', () => {
  it('accepts a context holding every required entry (extra entries are fine)', () =>
    expect(checkPurposeBinding({ collection: 'docs' }, { collection: 'docs', asset: 'a1' })).toEqual({ ok: true }));
  it('names missing and different keys, never the values', () => {
    const r = checkPurposeBinding({ collection: 'docs', tenant: 't1' }, { collection: 'secret-value-xyz' }, KEY);
    expect(r).toEqual({ ok: false, rejection: { code: 'CONTEXT_MISMATCH', keyId: KEY, missing: ['tenant'], different: ['collection'] } });
    const message = describeRejection((r as { rejection: KeyRejection }).rejection);
    expect(message).toContain('"tenant"');
    expect(message).not.toMatch(/secret-value-xyz|docs|t1/);
  });
  it('does not treat inherited properties as present', () =>
    expect(codeOf(checkPurposeBinding({ toString: 'x' }, {}))).toBe('CONTEXT_MISMATCH'));
});

describe('checkUsage', () => {
  it.each(CRYPTO_OPERATIONS)('allows %s for exactly one spec', (op) => {
    const mac = op === 'GenerateMac' || op === 'VerifyMac';
    expect(checkUsage('HMAC_256', op).ok).toBe(mac);
    expect(checkUsage('SYMMETRIC_DEFAULT', op).ok).toBe(!mac);
  });
  it('rejects with UNSUPPORTED_FOR_SPEC', () =>
    expect(checkUsage('HMAC_256', 'Encrypt', KEY)).toEqual({ ok: false, rejection: { code: 'UNSUPPORTED_FOR_SPEC', keyId: KEY, spec: 'HMAC_256', operation: 'Encrypt' } }));
});

describe('GCM budget', () => {
  it('asks for rotation at the threshold and stops at the budget', () => {
    expect(needsBudgetRotation(74, 100, 0.75)).toBe(false);
    expect(needsBudgetRotation(75, 100, 0.75)).toBe(true);
    expect(needsBudgetRotation(2 ** 31 * 0.75, 2 ** 31)).toBe(true);
    expect(isBudgetExhausted(99, 100)).toBe(false);
    expect(isBudgetExhausted(100, 100)).toBe(true);
  });
});

describe('toKeyInfo', () => {
  it('describes the key without material references', () => {
    const info = toKeyInfo(foldKeyEvents([...active, ...rotated(1, 2), ev('AliasCreated', { alias: 'alias/b' })]));
    expect(info).toMatchObject({
      keyId: KEY, status: 'Enabled', primaryVersion: 2, aliases: ['alias/b'], requiredContext: { collection: 'docs' },
      versions: [{ version: 1, isPrimary: false, status: 'Enabled', fingerprint: 'fp-1' }, { version: 2, isPrimary: true }],
    });
    expect(JSON.stringify(info)).not.toContain('mat-');
    expect(toKeyInfo(initialState)).toBeNull();
    expect(toKeyInfo(foldKeyEvents([createdHmac, versionAdded(1)]))?.usage).toBe('GENERATE_VERIFY_MAC');
  });
});

describe('describeRejection', () => {
  const samples: Record<KeyRejectionCode, KeyRejection> = {
    KEY_NOT_FOUND: { code: 'KEY_NOT_FOUND', keyId: KEY },
    KEY_ALREADY_EXISTS: { code: 'KEY_ALREADY_EXISTS', keyId: KEY, status: 'Enabled' },
    INVALID_KEY_STATE: { code: 'INVALID_KEY_STATE', keyId: KEY, status: 'Disabled', operation: 'Encrypt' },
    INVALID_ARGUMENT: { code: 'INVALID_ARGUMENT', keyId: KEY, field: 'reason', problem: 'must be a string' },
    VERSION_NOT_FOUND: { code: 'VERSION_NOT_FOUND', keyId: KEY, version: 4 },
    VERSION_DISABLED: { code: 'VERSION_DISABLED', keyId: KEY, version: 4 },
    VERSION_DESTROYED: { code: 'VERSION_DESTROYED', keyId: KEY, version: 4 },
    VERSION_NOT_DISABLED: { code: 'VERSION_NOT_DISABLED', keyId: KEY, version: 4 },
    PRIMARY_VERSION_CANNOT_BE_DISABLED: { code: 'PRIMARY_VERSION_CANNOT_BE_DISABLED', keyId: KEY, version: 4 },
    PRIMARY_VERSION_CANNOT_BE_DESTROYED: { code: 'PRIMARY_VERSION_CANNOT_BE_DESTROYED', keyId: KEY, version: 4 },
    DELETION_WINDOW_OUT_OF_RANGE: { code: 'DELETION_WINDOW_OUT_OF_RANGE', keyId: KEY, pendingWindowDays: 3, min: 7, max: 30 },
    DELETION_WINDOW_NOT_ELAPSED: { code: 'DELETION_WINDOW_NOT_ELAPSED', keyId: KEY, deletionDate: T0, now: T0 },
    INVALID_ALIAS: { code: 'INVALID_ALIAS', keyId: KEY, alias: 'x', problem: 'p' },
    ALIAS_ALREADY_EXISTS: { code: 'ALIAS_ALREADY_EXISTS', keyId: KEY, alias: 'alias/x' },
    ALIAS_NOT_FOUND: { code: 'ALIAS_NOT_FOUND', keyId: KEY, alias: 'alias/x' },
    INVALID_TAG: { code: 'INVALID_TAG', keyId: KEY, tagKey: 'k', problem: 'p' },
    ROTATION_PERIOD_OUT_OF_RANGE: { code: 'ROTATION_PERIOD_OUT_OF_RANGE', keyId: KEY, periodDays: 0, min: 1, max: 2560 },
    UNSUPPORTED_FOR_SPEC: { code: 'UNSUPPORTED_FOR_SPEC', keyId: null, spec: 'HMAC_256', operation: 'Encrypt' },
    ORIGIN_MISMATCH: { code: 'ORIGIN_MISMATCH', keyId: KEY, origin: 'EKM', operation: 'ImportKeyMaterial' },
    IMPORT_TOKEN_INVALID: { code: 'IMPORT_TOKEN_INVALID', keyId: KEY, tokenId: 't', problem: 'ALGORITHM_MISMATCH' },
    IMPORT_TOKEN_EXPIRED: { code: 'IMPORT_TOKEN_EXPIRED', keyId: KEY, tokenId: 't', expiresAt: T0 },
    IMPORT_TOKEN_USED: { code: 'IMPORT_TOKEN_USED', keyId: KEY, tokenId: 't' },
    CONTEXT_MISMATCH: { code: 'CONTEXT_MISMATCH', keyId: KEY, missing: ['a'], different: [] },
    VERSION_COMPROMISED: { code: 'VERSION_COMPROMISED', keyId: KEY, version: 4 },
    PRIMARY_VERSION_CANNOT_BE_COMPROMISED: { code: 'PRIMARY_VERSION_CANNOT_BE_COMPROMISED', keyId: KEY, version: 4 },
  };
  it.each(KEY_REJECTION_CODES)('renders %s with its values', (code) => {
    const message = describeRejection(samples[code]);
    expect(message).not.toMatch(/undefined|null|\[object/);
    expect(message.length).toBeGreaterThan(10);
  });
  it('names the rule for the primary', () =>
    expect(describeRejection(samples.PRIMARY_VERSION_CANNOT_BE_DISABLED)).toBe('version 4 is the primary of key k_test; rotate or promote another version first'));
  it('names the key for a created key', () => expect(describeRejection({ code: 'KEY_NOT_FOUND', keyId: created.data.keyId })).toContain('k_test'));
});
