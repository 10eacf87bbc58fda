import fc from 'fast-check';
import { KeyMaterialDisposedError } from '../errors';
import { KeyMaterial } from '../key-material';
import { kekCacheKey, UnwrappedKeyCache } from './unwrapped-key-cache';

function tracked(n = 1) {
  const raw = Buffer.alloc(32, n);
  return { raw, material: KeyMaterial.adopt(raw), isZeroed: () => raw.every((b) => b === 0) };
}

describe('UnwrappedKeyCache', () => {
  it('evicts the least recently used entry beyond maxEntries and zeroes it', () => {
    const cache = new UnwrappedKeyCache({ maxEntries: 2, ttlMs: 1000, now: () => 0 });
    const a = tracked(1), b = tracked(2), c = tracked(3);
    cache.set('a', a.material);
    cache.set('b', b.material);
    expect(cache.get('a')).toBe(a.material); // a is now most recent
    cache.set('c', c.material);
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(b.isZeroed()).toBe(true);
    expect(() => b.material.use((x) => x)).toThrow(KeyMaterialDisposedError);
    expect(a.isZeroed() || c.isZeroed()).toBe(false);
  });

  it('expires entries after ttlMs (not refreshed by reads) and zeroes them', () => {
    let now = 0;
    const cache = new UnwrappedKeyCache({ maxEntries: 10, ttlMs: 100, now: () => now });
    const a = tracked();
    cache.set('a', a.material);
    now = 99;
    expect(cache.get('a')).toBe(a.material);
    now = 100;
    expect(cache.get('a')).toBeUndefined();
    expect(a.isZeroed()).toBe(true);
    const b = tracked();
    cache.set('b', b.material);
    now = 1000;
    expect(cache.purgeExpired()).toBe(1);
    expect(b.isZeroed()).toBe(true);
  });

  it('a per-entry ttlMs shortens that entry only and never lengthens it past the cache TTL', () => {
    let now = 0;
    const cache = new UnwrappedKeyCache({ maxEntries: 10, ttlMs: 100, now: () => now });
    const short = tracked(1), long = tracked(2), plain = tracked(3);
    cache.set('short', short.material, 10);
    cache.set('long', long.material, 10_000);
    cache.set('plain', plain.material);
    now = 10;
    expect(cache.get('short')).toBeUndefined();
    expect(short.isZeroed()).toBe(true);
    expect(cache.get('plain')).toBe(plain.material);
    now = 100;
    expect(cache.get('long')).toBeUndefined();
    expect(cache.get('plain')).toBeUndefined();
  });

  it('invalidate(keyId) drops every version of that key only; clear() drops everything; all zeroed', () => {
    const cache = new UnwrappedKeyCache({ maxEntries: 10, ttlMs: 1000 });
    const k1v1 = tracked(), k1v2 = tracked(), k10v1 = tracked(), k2v1 = tracked();
    cache.set(kekCacheKey('k1', 1), k1v1.material);
    cache.set(kekCacheKey('k1', 2), k1v2.material);
    cache.set(kekCacheKey('k10', 1), k10v1.material);
    cache.set(kekCacheKey('k2', 1), k2v1.material);
    expect(cache.invalidate('k1')).toBe(2);
    expect([k1v1.isZeroed(), k1v2.isZeroed(), k10v1.isZeroed(), k2v1.isZeroed()]).toEqual([true, true, false, false]);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(k10v1.isZeroed() && k2v1.isZeroed()).toBe(true);
  });

  it('replacing an entry zeroes the old material', () => {
    const cache = new UnwrappedKeyCache({ maxEntries: 10, ttlMs: 1000 });
    const a = tracked(), b = tracked();
    cache.set('x', a.material);
    cache.set('x', b.material);
    expect(a.isZeroed()).toBe(true);
    expect(cache.get('x')).toBe(b.material);
  });

  it('withKey loads once, caches, and does not cache a load that raced an invalidate', async () => {
    const cache = new UnwrappedKeyCache({ maxEntries: 10, ttlMs: 1000 });
    let loads = 0;
    const load = async () => (loads++, KeyMaterial.random(32));
    await cache.withKey('k:1', load, (m) => m.length);
    await cache.withKey('k:1', load, (m) => m.length);
    expect(loads).toBe(1);
    const slow = tracked();
    const pending = cache.withKey('k2:1', async () => {
      cache.invalidate('k2'); // e.g. DisableKey arrives while unwrapping
      return slow.material;
    }, (m) => m.use((b) => b[0]));
    await expect(pending).resolves.toBe(1);
    expect(cache.get('k2:1')).toBeUndefined();
    expect(slow.isZeroed()).toBe(true);
  });

  it('never exceeds maxEntries, and every evicted material is zeroed (random operation sequences)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(fc.tuple(fc.constantFrom('set', 'get', 'invalidate'), fc.integer({ min: 0, max: 7 })), { maxLength: 60 }), (max, ops) => {
        const cache = new UnwrappedKeyCache({ maxEntries: max, ttlMs: 1e9 });
        const all: Array<ReturnType<typeof tracked>> = [];
        for (const [op, k] of ops) {
          const key = `k${k}:1`;
          if (op === 'set') {
            const t = tracked(k + 1);
            all.push(t);
            cache.set(key, t.material);
          } else if (op === 'get') cache.get(key);
          else cache.invalidate(`k${k}`);
          expect(cache.size).toBeLessThanOrEqual(max);
        }
        for (const t of all) {
          const held = [...Array(8).keys()].some((k) => cache.get(`k${k}:1`) === t.material);
          expect(t.isZeroed()).toBe(!held);
        }
      }),
    );
  });

  it('its invalidation index follows evictions, deletes and replacements (no growth past the cache)', () => {
    let now = 0;
    const cache = new UnwrappedKeyCache({ maxEntries: 3, ttlMs: 100, now: () => now });
    for (let i = 0; i < 50; i++) cache.set(kekCacheKey(`k${i}`, 1), tracked().material);
    expect(cache.size).toBe(3);
    expect(cache.indexedKeyIds).toBe(3);
    cache.set(kekCacheKey('k49', 1), tracked().material); // replacement keeps the entry indexed
    expect(cache.indexedKeyIds).toBe(3);
    expect(cache.invalidate('k49')).toBe(1);
    expect(cache.delete(kekCacheKey('k48', 1))).toBe(true);
    expect(cache.indexedKeyIds).toBe(1);
    now = 1_000;
    expect(cache.get(kekCacheKey('k47', 1))).toBeUndefined();
    expect(cache.indexedKeyIds).toBe(0);
  });
});
