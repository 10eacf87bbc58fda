/**
 * Aliases (unique across keys), tags, rotation settings, list-keys filters and pagination, and the key
 * projection: a rebuild from the log equals the live (inline) projection after a random workload.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { rebuildProjection } from '@ekm/event-store';
import type { Reply } from '@ekm/contracts';
import type { KeyInfo } from '../../domain';
import { KeyProjection } from '../postgres/key-projection';
import { RebuildKeyProjection } from '../postgres/key-projection.rebuild';
import { dataOf, startKeysHarness, type Harness } from './keys-admin.test-harness';

let h: Harness;
beforeAll(async () => {
  h = await startKeysHarness();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const uid = (): string => randomUUID().slice(0, 8);
const createKey = async (tenant = `t-${uid()}`, body: Record<string, unknown> = {}): Promise<KeyInfo> =>
  dataOf(await h.call<KeyInfo>('create-key', { tenant, ...body }));

async function expectRefused(fn: () => Promise<Reply<unknown>>, code: string, message?: RegExp): Promise<void> {
  const before = await h.keyEvents();
  const r = await fn();
  expect(r.ok ? 'ok' : r.error.code).toBe(code);
  if (!r.ok && message) expect(r.error.message).toMatch(message);
  expect(await h.keyEvents()).toBe(before);
}

describe('aliases', () => {
  it('creates, resolves and deletes aliases; an alias names one key across all keys', async () => {
    const [a, b] = [await createKey(), await createKey()];
    const name = `alias/app-${uid()}`;
    expect(dataOf(await h.call<KeyInfo>('create-alias', { keyId: a.keyId, alias: name })).aliases).toEqual([name]);
    expect(dataOf(await h.call<KeyInfo>('describe-key', { keyId: name })).keyId).toBe(a.keyId);
    await expectRefused(() => h.call('create-alias', { keyId: b.keyId, alias: name }), 'EKM_CONFLICT', new RegExp(`already names key ${a.keyId}`));
    await expectRefused(() => h.call('create-alias', { keyId: a.keyId, alias: name }), 'EKM_CONFLICT', /already has alias/);
    await expectRefused(() => h.call('create-alias', { keyId: a.keyId, alias: 'alias/bad name!' }), 'EKM_VALIDATION', /alias/);
    await expectRefused(() => h.call('create-alias', { keyId: a.keyId, alias: 'alias/aws/x' }), 'EKM_VALIDATION', /reserved/);
    await expectRefused(() => h.call('delete-alias', { keyId: b.keyId, alias: name }), 'EKM_NOT_FOUND', /has no alias/);
    expect(dataOf(await h.call<KeyInfo>('delete-alias', { keyId: a.keyId, alias: name })).aliases).toEqual([]);
    // Released: the other key may take it now, and the alias resolves to it.
    dataOf(await h.call('create-alias', { keyId: b.keyId, alias: name.slice('alias/'.length) }));
    expect(dataOf(await h.call<KeyInfo>('describe-key', { keyId: name })).keyId).toBe(b.keyId);
  });

  it('the aliases table refuses a race the early check cannot see', async () => {
    const [a, b] = [await createKey(), await createKey()];
    const name = `alias/race-${uid()}`;
    const replies = await Promise.all([
      h.call('create-alias', { keyId: a.keyId, alias: name }), h.call('create-alias', { keyId: b.keyId, alias: name }),
    ]);
    expect(replies.filter((r) => r.ok)).toHaveLength(1);
    expect(replies.filter((r) => !r.ok).map((r) => (r.ok ? '' : r.error.code))).toEqual(['EKM_CONFLICT']);
    const { rows } = await h.db.query(`SELECT count(*)::int AS n FROM ekm_keys.events WHERE event_type = 'AliasCreated' AND data->>'alias' = $1`, [name]);
    expect(rows[0].n).toBe(1);
  });
});

describe('tags and rotation settings', () => {
  it('tags and untags; bad tags are typed errors', async () => {
    const k = await createKey();
    expect(dataOf(await h.call<KeyInfo>('tag-key', { keyId: k.keyId, tags: { team: 'search', env: 'dev' } })).tags).toEqual({ team: 'search', env: 'dev' });
    expect(dataOf(await h.call<KeyInfo>('untag-key', { keyId: k.keyId, tagKeys: ['env'] })).tags).toEqual({ team: 'search' });
    await expectRefused(() => h.call('tag-key', { keyId: k.keyId, tags: { 'aws:x': 'y' } }), 'EKM_VALIDATION', /reserved/);
    await expectRefused(() => h.call('tag-key', { keyId: k.keyId, tags: { a: 1 } }), 'EKM_VALIDATION', /tags.a: must be a string/);
    await expectRefused(() => h.call('untag-key', { keyId: k.keyId, tagKeys: [] }), 'EKM_VALIDATION', /tagKeys/);
  });

  it('updates the description (an event, read back by describe-key); over 8192 characters is refused', async () => {
    const k = await createKey();
    expect(dataOf(await h.call<KeyInfo>('update-key-description', { keyId: k.keyId, description: 'embeddings of docs' })).description).toBe('embeddings of docs');
    expect(dataOf(await h.call<KeyInfo>('describe-key', { keyId: k.keyId })).description).toBe('embeddings of docs');
    const { rows } = await h.db.query(`SELECT count(*)::int AS n FROM ekm_keys.events WHERE event_type = 'KeyDescriptionUpdated' AND data->>'keyId' = $1`, [k.keyId]);
    expect(rows[0].n).toBe(1);
    await expectRefused(() => h.call('update-key-description', { keyId: k.keyId, description: 'x'.repeat(8193) }), 'EKM_VALIDATION', /description/);
  });

  it('enables, reports and disables periodic rotation; periods out of range are refused', async () => {
    const k = await createKey();
    await expectRefused(() => h.call('enable-key-rotation', { keyId: k.keyId, periodDays: 0 }), 'EKM_VALIDATION', /rotation period of 0 days/);
    await expectRefused(() => h.call('enable-key-rotation', { keyId: k.keyId, periodDays: 3000 }), 'EKM_VALIDATION', /outside 1-2560/);
    await expectRefused(() => h.call('enable-key-rotation', { keyId: k.keyId, periodDays: '90' }), 'EKM_VALIDATION', /periodDays: must be an integer between 0 and 100000/);
    dataOf(await h.call('enable-key-rotation', { keyId: k.keyId, periodDays: 90 }));
    const status = dataOf(await h.call<{ rotation: { enabled: boolean; periodDays?: number } }>('get-key-rotation-status', { keyId: k.keyId }));
    expect(status.rotation).toMatchObject({ enabled: true, periodDays: 90 });
    dataOf(await h.call('disable-key-rotation', { keyId: k.keyId }));
    expect(dataOf(await h.call<{ rotation: unknown }>('get-key-rotation-status', { keyId: k.keyId })).rotation).toEqual({ enabled: false });
    const ext = await createKey(undefined, { origin: 'EXTERNAL' });
    await expectRefused(() => h.call('enable-key-rotation', { keyId: ext.keyId, periodDays: 90 }), 'EKM_KEY_NOT_ACTIVE', /is PendingImport/);
  });
});

describe('list-keys', () => {
  it('filters by tenant, state, tag and alias and pages with an opaque cursor', async () => {
    const tenant = `list-${uid()}`;
    const keys = await Promise.all(Array.from({ length: 5 }, () => createKey(tenant)));
    dataOf(await h.call('tag-key', { keyId: keys[0].keyId, tags: { tier: 'gold' } }));
    dataOf(await h.call('disable-key', { keyId: keys[1].keyId }));
    const alias = `alias/list-${uid()}`;
    dataOf(await h.call('create-alias', { keyId: keys[2].keyId, alias }));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { keys: KeyInfo[]; nextCursor: string | null } = dataOf(await h.call('list-keys', { tenant, limit: 2, ...(cursor ? { cursor } : {}) }));
      expect(page.keys.length).toBeLessThanOrEqual(2);
      seen.push(...page.keys.map((k) => k.keyId));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen.sort()).toEqual(keys.map((k) => k.keyId).sort());
    const ids = async (body: object): Promise<string[]> => dataOf(await h.call<{ keys: KeyInfo[] }>('list-keys', { tenant, ...body })).keys.map((k) => k.keyId);
    expect(await ids({ tag: 'tier=gold' })).toEqual([keys[0].keyId]);
    expect(await ids({ tag: { key: 'tier', value: 'gold' } })).toEqual([keys[0].keyId]);
    expect(await ids({ state: 'Disabled' })).toEqual([keys[1].keyId]);
    expect(await ids({ alias })).toEqual([keys[2].keyId]);
  });
});

describe('projection', () => {
  it('a rebuild from the log equals the live projection after a random workload', async () => {
    const keys = await Promise.all(Array.from({ length: 6 }, () => createKey(`rb-${uid()}`)));
    const ops: Array<(k: KeyInfo) => Promise<unknown>> = [
      (k) => h.call('rotate-key', { keyId: k.keyId }),
      (k) => h.call('disable-key', { keyId: k.keyId }),
      (k) => h.call('enable-key', { keyId: k.keyId }),
      (k) => h.call('tag-key', { keyId: k.keyId, tags: { n: uid() } }),
      (k) => h.call('create-alias', { keyId: k.keyId, alias: `alias/rb-${uid()}` }),
      // Move an alias between keys: the deferred rebuild must drop it from the first before the second takes it.
      async (k) => {
        const from = keys.find((o) => o.keyId !== k.keyId) as KeyInfo;
        const alias = `alias/mv-${uid()}`;
        await h.call('create-alias', { keyId: from.keyId, alias });
        await h.call('delete-alias', { keyId: from.keyId, alias });
        return h.call('create-alias', { keyId: k.keyId, alias });
      },
      (k) => h.call('enable-key-rotation', { keyId: k.keyId, periodDays: 30 }),
      (k) => h.call('schedule-key-deletion', { keyId: k.keyId, pendingWindowDays: 0 }),
      (k) => h.call('cancel-key-deletion', { keyId: k.keyId }),
      (k) => h.call('destroy-key', { keyId: k.keyId }),
      (k) => h.call('revoke-key', { keyId: k.keyId, reason: 'test' }),
    ];
    // Deterministically first: an alias moved from key 0 to key 1, then key 0 changed last (so a deferred
    // rebuild writes key 1's rows before key 0's).
    const moved = `alias/moved-${uid()}`;
    dataOf(await h.call('create-alias', { keyId: keys[0].keyId, alias: moved }));
    dataOf(await h.call('delete-alias', { keyId: keys[0].keyId, alias: moved }));
    dataOf(await h.call('create-alias', { keyId: keys[1].keyId, alias: moved }));
    for (const k of [keys[2], keys[3], keys[0]]) dataOf(await h.call('tag-key', { keyId: k.keyId, tags: { t: uid() } }));
    for (let i = 0; i < 60; i++) await ops[Math.floor(Math.random() * ops.length)](keys[Math.floor(Math.random() * keys.length)]);
    const snapshot = async (): Promise<unknown> => {
      const q = async (sql: string): Promise<unknown[]> => (await h.db.query(sql)).rows;
      return JSON.parse(JSON.stringify({
        keys: await q('SELECT * FROM ekm_keys.keys ORDER BY id'),
        versions: await q('SELECT * FROM ekm_keys.key_versions ORDER BY key_id, version'),
        aliases: await q('SELECT * FROM ekm_keys.aliases ORDER BY alias'),
      }));
    };
    const live = await snapshot();
    const pool = new Pool({ connectionString: h.dbUrl, max: 2 });
    try {
      // Small batches, so the immediate path folds across batches; then the deferred path (each key written once at the end).
      const r = await rebuildProjection({ pool, service: 'keys', projection: new KeyProjection(), batchSize: 7 });
      expect(r.applied).toBeGreaterThan(60);
      expect(await snapshot()).toEqual(live);
      await rebuildProjection({ pool, service: 'keys', projection: new RebuildKeyProjection('keys'), batchSize: 7 });
      expect(await snapshot()).toEqual(live);
      // Tiny chunks and a tiny deferral bound: flushes mid-rebuild and multi-chunk writes.
      await rebuildProjection({ pool, service: 'keys', projection: new RebuildKeyProjection('keys', { writeChunk: 2, maxDeferred: 3 }), batchSize: 7 });
    } finally {
      await pool.end();
    }
    expect(await snapshot()).toEqual(live);
    expect(JSON.stringify(live)).toContain('"status":"Enabled"');
  });
});
