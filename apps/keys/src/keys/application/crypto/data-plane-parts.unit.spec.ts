/** Unit tests of the data plane's pure and in-memory parts: GCM blocks, KEK single flight, SecretBytes, error mapping. */
import fc from 'fast-check';
import { KeyMaterial, RootKeyUnavailableError } from '@ekm/crypto';
import { MaterialEpochDestroyedError } from '../epochs/epoch.ports';
import { BUS_ERROR_CODES } from '@ekm/contracts';
import { KEY_REJECTION_CODES } from '../../domain';
import { KekCache, type KekOpener } from '../../adapters/cache/kek-cache';
import type { KeyMaterialStore } from '../ports';
import { REJECTION_TO_BUS, toFailReply, classify } from '../call-failures';
import { MaterialMissingError, type GcmCounterStore } from './crypto.ports';
import { GcmBudget } from './gcm-budget';
import { SecretBytes } from './secret-bytes';


class MemCounter implements GcmCounterStore {
  readonly rows = new Map<string, number>();
  calls = 0;
  async reserve(keyId: string, version: number, block: number): Promise<number> {
    this.calls++;
    await Promise.resolve();
    const k = `${keyId}:${version}`;
    const next = (this.rows.get(k) ?? 0) + block;
    this.rows.set(k, next);
    return next;
  }
  async reserved(keyId: string, version: number): Promise<number> {
    return this.rows.get(`${keyId}:${version}`) ?? 0;
  }
}

describe('GcmBudget', () => {
  it('numbers are unique across replicas and restarts, never above the budget; rotation asked from the threshold on', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.array(fc.nat(3), { minLength: 1, maxLength: 60 }), async (block, picks) => {
      const store = new MemCounter();
      // Four "replicas"; a pick of 3 models a crash-restart of replica 0 (its block is lost).
      const replicas = [0, 1, 2].map(() => new GcmBudget(store, 20, block, 0.75));
      const seen = new Set<number>();
      for (const p of picks) {
        if (p === 3) replicas[0] = new GcmBudget(store, 20, block, 0.75);
        const t = await replicas[p % 3]!.take('k', 1);
        expect(seen.has(t.count)).toBe(false);
        seen.add(t.count);
        if (t.ok) {
          expect(t.count).toBeLessThanOrEqual(20);
          expect(t.rotate).toBe(t.count >= 15);
        } else expect(t.count).toBeGreaterThan(20);
      }
      expect((await store.reserved('k', 1)) % block).toBe(0);
    }), { numRuns: 60 });
  });

  it('concurrent takes on one replica share one reservation', async () => {
    const store = new MemCounter();
    const g = new GcmBudget(store, 1000, 10, 0.75);
    const counts = (await Promise.all(Array.from({ length: 10 }, () => g.take('k', 1)))).map((t) => t.count);
    expect(store.calls).toBe(1);
    expect(counts.sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

describe('KekCache', () => {
  const kek = Buffer.alloc(32, 7);
  const setup = (ttlMs = 60_000) => {
    let unwraps = 0;
    let gate: (() => void) | null = null;
    const store: KeyMaterialStore = {
      put: () => Promise.resolve(), deleteVersion: () => Promise.resolve(), deleteAll: () => Promise.resolve(0),
      // Key `a-1` is tenant a's (its row names tenant root a), `legacy` predates tenant roots.
      get: (k, v) => Promise.resolve(v === 9 ? null : { keyId: k, version: v, materialRef: `${k}/${v}`, epoch: 'e1', wrapped: Buffer.from('wrapped'), ...(k === 'legacy' ? {} : { tenantRoot: k.split('-')[0]! }) }),
    };
    const root: KekOpener = {
      unwrap: async () => {
        unwraps++;
        if (gate === null) await new Promise<void>((r) => { gate = r; });
        return KeyMaterial.copyOf(kek);
      },
    };
    const cache = new KekCache(store, root, { ttlMs, maxEntries: 10 });
    return { cache, unwraps: () => unwraps, release: () => { const g = gate; gate = () => undefined; g?.(); } };
  };

  it('concurrent misses unwrap once; later calls hit the cache', async () => {
    const s = setup();
    const calls = Array.from({ length: 5 }, () => s.cache.withKek('k', 1, (m) => m.use((b) => b.equals(kek))));
    await new Promise((r) => setImmediate(r));
    s.release();
    expect(await Promise.all(calls)).toEqual([true, true, true, true, true]);
    expect(await s.cache.withKek('k', 1, (m) => m.length)).toBe(32);
    expect(s.unwraps()).toBe(1);
    expect(s.cache.size).toBe(1);
  });

  it('a load overlapping invalidate() serves its waiters but is not cached', async () => {
    const s = setup();
    const p = s.cache.withKek('k', 1, (m) => m.length);
    await new Promise((r) => setImmediate(r));
    s.cache.invalidate('k');
    s.release();
    expect(await p).toBe(32);
    expect(s.cache.size).toBe(0);
  });

  it("clearTenant drops that tenant's KEKs and those of rows without a tenant root, and keeps other tenants'", async () => {
    const s = setup();
    s.release();
    for (const k of ['a-1', 'a-2', 'b-1', 'legacy', 'a:b-1']) await s.cache.withKek(k, 1, () => 0);
    expect(s.cache.size).toBe(5);
    s.cache.clearTenant('a');
    // a-1, a-2 and legacy are gone; b-1 and tenant "a:b"'s key stay (no tenant id names another's group).
    expect(s.cache.size).toBe(2);
    const before = s.unwraps();
    await s.cache.withKek('b-1', 1, () => 0);
    await s.cache.withKek('a:b-1', 1, () => 0);
    expect(s.unwraps()).toBe(before);
    await s.cache.withKek('a-1', 1, () => 0);
    expect(s.unwraps()).toBe(before + 1);
  });

  it("a load of the tenant's KEK overlapping clearTenant is not cached; another tenant's is", async () => {
    const s = setup();
    const a = s.cache.withKek('a-1', 1, (m) => m.length);
    const b = s.cache.withKek('b-1', 1, (m) => m.length);
    await new Promise((r) => setImmediate(r));
    s.cache.clearTenant('a');
    s.release();
    expect(await Promise.all([a, b])).toEqual([32, 32]);
    expect(s.cache.size).toBe(1);
    const before = s.unwraps();
    await s.cache.withKek('b-1', 1, () => 0);
    expect(s.unwraps()).toBe(before);
  });

  it('missing material is MaterialMissingError; disabled cache (ttl 0) still works', async () => {
    const s = setup(0);
    s.release();
    await expect(s.cache.withKek('k', 9, () => 1)).rejects.toBeInstanceOf(MaterialMissingError);
    expect(await s.cache.withKek('k', 1, (m) => m.length)).toBe(32);
    expect(s.cache.size).toBe(0);
  });
});

describe('KekCache during an epoch roll', () => {
  it('a row whose epoch was destroyed after it was read is read once more (the roll moved it)', async () => {
    let reads = 0;
    const row = (epoch: string) => ({ keyId: 'k', version: 1, materialRef: 'r', epoch, wrapped: Buffer.from(epoch) });
    const store: KeyMaterialStore = {
      put: () => Promise.resolve(), deleteVersion: () => Promise.resolve(), deleteAll: () => Promise.resolve(0),
      get: () => Promise.resolve(row(++reads === 1 ? 'e-old' : 'e-new')),
    };
    const opener: KekOpener = {
      unwrap: async (r) => {
        if (r.epoch === 'e-old') throw new MaterialEpochDestroyedError('k', 1, 'e-old');
        return KeyMaterial.copyOf(Buffer.alloc(32, 1));
      },
    };
    const cache = new KekCache(store, opener, { ttlMs: 0, maxEntries: 0 });
    expect(await cache.withKek('k', 1, (m) => m.length)).toBe(32);
    expect(reads).toBe(2);
  });

  it('a row still under the destroyed epoch after the re-read fails with the epoch named', async () => {
    const store: KeyMaterialStore = {
      put: () => Promise.resolve(), deleteVersion: () => Promise.resolve(), deleteAll: () => Promise.resolve(0),
      get: () => Promise.resolve({ keyId: 'k', version: 1, materialRef: 'r', epoch: 'e-old', wrapped: Buffer.alloc(40) }),
    };
    const opener: KekOpener = { unwrap: async () => { throw new MaterialEpochDestroyedError('k', 1, 'e-old'); } };
    const cache = new KekCache(store, opener, { ttlMs: 0, maxEntries: 0 });
    await expect(cache.withKek('k', 1, () => 1)).rejects.toThrow(/wrapped under epoch e-old, which was destroyed/);
  });
});

describe('SecretBytes', () => {
  it('serializes once as base64 and zeroes the buffer; prints a redaction', () => {
    const buf = Buffer.from('plaintext!');
    const s = SecretBytes.adopt(buf);
    expect(String(s)).not.toContain('plaintext');
    expect(JSON.stringify({ p: s })).toBe(JSON.stringify({ p: Buffer.from('plaintext!').toString('base64') }));
    expect(buf.every((b) => b === 0)).toBe(true);
    expect(() => JSON.stringify(s)).toThrow();
    const m = KeyMaterial.random(16);
    const sm = SecretBytes.ofMaterial(m);
    sm.dispose();
    expect(m.isDisposed).toBe(true);
  });
});

describe('error mapping', () => {
  it('maps every rejection code to a known bus code, and classifies infra errors', () => {
    for (const code of KEY_REJECTION_CODES) expect(BUS_ERROR_CODES).toContain(REJECTION_TO_BUS[code]);
    expect(classify(new RootKeyUnavailableError('down'))).toEqual({ kind: 'ROOT_UNAVAILABLE' });
    expect(classify(new Error('bug'))).toBeNull();
    expect(toFailReply({ kind: 'INVALID_CIPHERTEXT' }).error).toEqual({ code: 'EKM_INVALID_CIPHERTEXT', message: 'ciphertext is invalid' });
    expect(toFailReply({ kind: 'AUDIT_UNAVAILABLE' }).error.code).toBe('EKM_AUDIT_UNAVAILABLE');
  });
});
