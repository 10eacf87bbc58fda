/**
 * The lifecycle API over the bus against real Postgres and nats-server: each operation succeeds, each
 * bad input answers with a typed error AND appends nothing, DestroyKey shreds key_material atomically,
 * and usage records are written for allowed and failed calls.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { Reply } from '@ekm/contracts';
import type { KeyInfo } from '../../domain';
import { dataOf, startKeysHarness, type Harness } from './keys-admin.test-harness';
import { waitFor } from '../../../../../../test/support/wait-for';
import { USAGE_RECORDS } from '../../../../../../test/support/usage-records';

let h: Harness;
beforeAll(async () => {
  h = await startKeysHarness();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const createKey = async (body: Record<string, unknown> = {}): Promise<KeyInfo> =>
  dataOf(await h.call<KeyInfo>('create-key', { tenant: 't-' + randomUUID().slice(0, 8), ...body }));

/** Runs `fn`, expects a failed reply with `code` and checks no key event was appended. */
async function expectRefused(fn: () => Promise<Reply<unknown>>, code: string, message?: RegExp): Promise<string> {
  const before = await h.keyEvents();
  const r = await fn();
  expect(r.ok).toBe(false);
  if (r.ok) return '';
  expect(r.error.code).toBe(code);
  if (message) expect(r.error.message).toMatch(message);
  expect(await h.keyEvents()).toBe(before);
  return r.error.message;
}

const materialRows = async (keyId: string): Promise<number> =>
  Number((await h.db.query<{ n: string }>('SELECT count(*) AS n FROM ekm_keys.key_material WHERE key_id = $1', [keyId])).rows[0].n);

describe('create, describe, versions', () => {
  it('creates an EKM key with version 1 and stores only wrapped material outside the log', async () => {
    const key = await createKey({ description: 'docs', tags: { env: 'dev' }, requiredContext: { collection: 'docs' } });
    expect(key).toMatchObject({ status: 'Enabled', spec: 'SYMMETRIC_DEFAULT', usage: 'ENCRYPT_DECRYPT', origin: 'EKM', primaryVersion: 1, tags: { env: 'dev' } });
    expect(JSON.stringify(key)).not.toMatch(/materialRef|wrapped/);
    expect(await materialRows(key.keyId)).toBe(1);
    const described = dataOf(await h.call<KeyInfo>('describe-key', { keyId: key.keyId }));
    expect(described).toEqual(key);
    const versions = dataOf(await h.call<{ versions: unknown[] }>('list-key-versions', { keyId: key.keyId }));
    expect(versions.versions).toEqual([expect.objectContaining({ version: 1, isPrimary: true, status: 'Enabled' })]);
  });

  it('a retried create-key (same request id) is one command: same key, nothing appended twice', async () => {
    const requestId = randomUUID();
    const first = dataOf(await h.call<KeyInfo>('create-key', { tenant: 'retry' }, { requestId }));
    const before = await h.keyEvents();
    const again = dataOf(await h.call<KeyInfo>('create-key', { tenant: 'retry' }, { requestId }));
    expect(again.keyId).toBe(first.keyId);
    expect(await h.keyEvents()).toBe(before);
    expect(await materialRows(first.keyId)).toBe(1);
  });

  it('creates an EXTERNAL key in PendingImport with no version', async () => {
    const key = await createKey({ origin: 'EXTERNAL' });
    expect(key).toMatchObject({ status: 'PendingImport', primaryVersion: null, versions: [] });
    expect(await materialRows(key.keyId)).toBe(0);
  });

  it('refuses malformed, wrongly typed and unsupported input with typed errors', async () => {
    await expectRefused(() => h.call('create-key', { tenant: 42 }), 'EKM_VALIDATION', /tenant: must be a string/);
    await expectRefused(() => h.call('create-key', {}), 'EKM_VALIDATION', /tenant: is required/);
    await expectRefused(() => h.call('create-key', { tenant: 't', spec: 'RSA_2048' }), 'EKM_VALIDATION', /spec: must be one of/);
    await expectRefused(() => h.call('create-key', { tenant: 't', extra: 1 }), 'EKM_VALIDATION', /unknown field extra/);
    await expectRefused(() => h.call('create-key', { tenant: 't', spec: 'HMAC_256', usage: 'ENCRYPT_DECRYPT' }), 'EKM_UNSUPPORTED', /HMAC_256/);
    await expectRefused(() => h.call('describe-key', { keyId: 7 }), 'EKM_VALIDATION', /keyId: must be a string/);
    await expectRefused(() => h.call('describe-key', { keyId: randomUUID() }), 'EKM_KEY_NOT_FOUND', /does not exist/);
    await expectRefused(() => h.call('rotate-key', { keyId: 'alias/nobody' }), 'EKM_KEY_NOT_FOUND');
    await expectRefused(() => h.call('list-keys', { limit: 101 }), 'EKM_VALIDATION', /limit/);
    await expectRefused(() => h.call('list-keys', { cursor: 'bm9wZQ' }), 'EKM_VALIDATION', /cursor/);
  });
});

describe('rotate, enable, disable, revoke', () => {
  it('rotates on demand to a new primary version with its own material', async () => {
    const key = await createKey();
    const rotated = dataOf(await h.call<KeyInfo>('rotate-key', { keyId: key.keyId }));
    expect(rotated.primaryVersion).toBe(2);
    expect(rotated.versions.map((v) => [v.version, v.isPrimary])).toEqual([[1, false], [2, true]]);
    expect(rotated.versions[0].fingerprint).not.toBe(rotated.versions[1].fingerprint);
    expect(rotated.lastRotatedAt).not.toBeNull();
    expect(await materialRows(key.keyId)).toBe(2);
  });

  it('disables and enables; a disabled key refuses rotation naming its state', async () => {
    const key = await createKey();
    expect(dataOf(await h.call<KeyInfo>('disable-key', { keyId: key.keyId })).status).toBe('Disabled');
    await expectRefused(() => h.call('rotate-key', { keyId: key.keyId }), 'EKM_KEY_NOT_ACTIVE', new RegExp(`key ${key.keyId} is Disabled`));
    expect(dataOf(await h.call<KeyInfo>('enable-key', { keyId: key.keyId })).status).toBe('Enabled');
  });

  it('revokes with a reason; a revoked key never comes back', async () => {
    const key = await createKey();
    await expectRefused(() => h.call('revoke-key', { keyId: key.keyId }), 'EKM_VALIDATION', /reason: is required/);
    await expectRefused(() => h.call('revoke-key', { keyId: key.keyId, reason: '' }), 'EKM_VALIDATION', /reason/);
    const revoked = dataOf(await h.call<KeyInfo>('revoke-key', { keyId: key.keyId, reason: 'leaked in a log' }));
    expect(revoked).toMatchObject({ status: 'Compromised', revokedAt: expect.any(String) });
    await expectRefused(() => h.call('enable-key', { keyId: key.keyId }), 'EKM_KEY_NOT_ACTIVE', /is Compromised/);
  });
});

describe('deletion', () => {
  it('refuses windows out of range and destroying before the date; cancel returns to Disabled', async () => {
    const key = await createKey();
    await expectRefused(() => h.call('schedule-key-deletion', { keyId: key.keyId, pendingWindowDays: 31 }), 'EKM_VALIDATION', /outside 0-30/);
    await expectRefused(() => h.call('schedule-key-deletion', { keyId: key.keyId, pendingWindowDays: 1.5 }), 'EKM_VALIDATION', /pendingWindowDays/);
    const scheduled = dataOf(await h.call<KeyInfo>('schedule-key-deletion', { keyId: key.keyId, pendingWindowDays: 7 }));
    expect(scheduled.status).toBe('PendingDeletion');
    expect(Date.parse(scheduled.deletionDate!) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    await expectRefused(() => h.call('destroy-key', { keyId: key.keyId }), 'EKM_KEY_NOT_ACTIVE', /cannot be destroyed before/);
    await expectRefused(() => h.call('rotate-key', { keyId: key.keyId }), 'EKM_KEY_NOT_ACTIVE', /is PendingDeletion/);
    expect(dataOf(await h.call<KeyInfo>('cancel-key-deletion', { keyId: key.keyId })).status).toBe('Disabled');
    await expectRefused(() => h.call('cancel-key-deletion', { keyId: key.keyId }), 'EKM_KEY_NOT_ACTIVE', /is Disabled/);
  });

  it('defaults the window to 30 days', async () => {
    const key = await createKey();
    const s = dataOf(await h.call<KeyInfo>('schedule-key-deletion', { keyId: key.keyId }));
    expect(Math.round((Date.parse(s.deletionDate!) - Date.now()) / 86_400_000)).toBe(30);
  });

  it('destroys after the window, deleting key_material in the same transaction; the history stays', async () => {
    const key = await createKey();
    dataOf(await h.call('rotate-key', { keyId: key.keyId }));
    dataOf(await h.call('create-alias', { keyId: key.keyId, alias: `alias/doomed-${key.keyId.slice(0, 8)}` }));
    dataOf(await h.call('schedule-key-deletion', { keyId: key.keyId, pendingWindowDays: 0 }));
    expect(await materialRows(key.keyId)).toBe(2);
    // Hold the material rows locked: the destroy transaction must wait, and KeyDestroyed must not be visible meanwhile.
    const locker = new Client({ connectionString: h.dbUrl });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT * FROM ekm_keys.key_material WHERE key_id = $1 FOR UPDATE', [key.keyId]);
      const pending = h.call<KeyInfo>('destroy-key', { keyId: key.keyId });
      // The destroy transaction is blocked on the row lock (not merely not started yet).
      await waitFor(async () => (await h.db.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rowCount! > 0,
        { what: 'the destroy transaction to wait on the material row lock', timeoutMs: 10_000 });
      const early = await h.db.query(`SELECT 1 FROM ekm_keys.events WHERE stream_id = $1 AND event_type = 'KeyDestroyed'`, [`key-${key.keyId}`]);
      expect(early.rowCount).toBe(0);
      await locker.query('COMMIT');
      const destroyed = dataOf(await pending);
      expect(destroyed).toMatchObject({ status: 'Destroyed', aliases: [] });
      expect(destroyed.versions.every((v) => v.status === 'Destroyed')).toBe(true);
    } finally {
      await locker.end();
    }
    expect(await materialRows(key.keyId)).toBe(0);
    const history = await h.db.query<{ event_type: string }>('SELECT event_type FROM ekm_keys.events WHERE stream_id = $1 ORDER BY stream_position', [`key-${key.keyId}`]);
    expect(history.rows.map((r) => r.event_type)).toEqual([
      'KeyCreated', 'KeyVersionAdded', 'KeyVersionAdded', 'KeyRotated', 'AliasCreated', 'KeyDeletionScheduled', 'AliasDeleted', 'KeyDestroyed',
    ]);
    await expectRefused(() => h.call('enable-key', { keyId: key.keyId }), 'EKM_KEY_NOT_ACTIVE', /is Destroyed/);
  });
});

describe('usage records', () => {
  it('records allowed and failed calls with principal and outcome', async () => {
    const principal = `p-${randomUUID().slice(0, 8)}`;
    const key = dataOf(await h.call<KeyInfo>('create-key', { tenant: 'usage' }, { principal }));
    await h.call('rotate-key', { keyId: randomUUID() }, { principal });
    const { rows } = await h.db.query<{ data: { operation: string; outcome: string; keyId?: string; errorCode?: string } }>(
      `SELECT data FROM ${USAGE_RECORDS} WHERE data->>'principal' = $1 ORDER BY global_position`, [principal]);
    expect(rows.map((r) => r.data)).toEqual([
      expect.objectContaining({ operation: 'CreateKey', outcome: 'ALLOWED', keyId: key.keyId }),
      expect.objectContaining({ operation: 'RotateKey', outcome: 'FAILED', errorCode: 'EKM_KEY_NOT_FOUND' }),
    ]);
  });
});
