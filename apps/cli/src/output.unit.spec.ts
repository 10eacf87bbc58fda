import type { KeyInfo } from '@ekm/client';
import { fieldLines, formatError, formatMap, jsonDocument, keyListTable, keyTable, versionsTable } from './output';

export const sampleKey = (over: Partial<KeyInfo> = {}): KeyInfo => ({
  keyId: '3f2504e0-4f89-41d3-9a0c-0305e82c3301', tenant: 'acme', status: 'Enabled', spec: 'SYMMETRIC_DEFAULT', usage: 'ENCRYPT_DECRYPT',
  origin: 'EKM', description: 'docs', primaryVersion: 2,
  versions: [
    { version: 1, status: 'Enabled', isPrimary: false, fingerprint: 'fp1', origin: 'EKM', createdAt: '2025-01-01T00:00:00.000Z' },
    { version: 2, status: 'Enabled', isPrimary: true, fingerprint: 'fp2', origin: 'EKM', createdAt: '2025-02-01T00:00:00.000Z' },
  ],
  aliases: ['alias/acme-docs'], tags: { z: '1', a: '2' }, requiredContext: { collection: 'docs' },
  rotation: { enabled: true, periodDays: 90, nextRotationAt: '2025-05-01T00:00:00.000Z' }, lastRotatedAt: '2025-02-01T00:00:00.000Z',
  deletionDate: null, revokedAt: null, destroyedAt: null, createdAt: '2025-01-01T00:00:00.000Z', ...over,
});

describe('output formatting', () => {
  it('prints one JSON document with a trailing newline', () => {
    const text = jsonDocument({ a: 1, b: [1] });
    expect(JSON.parse(text)).toEqual({ a: 1, b: [1] });
    expect(text.endsWith('}\n')).toBe(true);
  });
  it('formats maps sorted, and empty ones as -', () => {
    expect(formatMap({ z: '1', a: '2' })).toBe('a=2, z=1');
    expect(formatMap({})).toBe('-');
  });
  it('shows a key with state, purpose binding, rotation and aliases', () => {
    const text = keyTable(sampleKey());
    for (const s of ['3f2504e0-4f89-41d3-9a0c-0305e82c3301', 'Enabled', 'SYMMETRIC_DEFAULT (ENCRYPT_DECRYPT)', 'collection=docs', 'a=2, z=1', 'every 90 days', 'alias/acme-docs']) {
      expect(text).toContain(s);
    }
    expect(keyTable(sampleKey({ rotation: { enabled: false }, primaryVersion: null }))).toMatch(/Rotation\s*│ off/);
  });
  it('lists keys and versions one per row', () => {
    const list = keyListTable([sampleKey(), sampleKey({ keyId: 'other', status: 'Disabled' })]);
    expect(list.split('\n').filter((l) => l.includes('acme'))).toHaveLength(2);
    expect(keyListTable([])).toBe('no keys\n');
    const versions = versionsTable(sampleKey().versions);
    expect(versions).toMatch(/│ 2\s+│ Enabled\s+│ yes/);
  });
  it('aligns field lines and prints null as -', () => {
    expect(fieldLines({ keyId: 'k', keyVersion: 3, lastRotatedAt: null })).toBe('keyId:         k\nkeyVersion:    3\nlastRotatedAt: -\n');
  });
  it('prints errors for people and as {code, message} JSON for scripts', () => {
    expect(formatError('EKM_KEY_NOT_FOUND', 'key k does not exist', false)).toBe('ekm: EKM_KEY_NOT_FOUND: key k does not exist\n');
    expect(JSON.parse(formatError('EKM_KEY_NOT_FOUND', 'key k does not exist', true))).toEqual({ code: 'EKM_KEY_NOT_FOUND', message: 'key k does not exist' });
  });
});
