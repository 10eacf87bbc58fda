import { DecisionCache, decisionKey } from './decision-cache';

const req = { principal: 'p', action: 'keys:Decrypt', resource: { keyId: 'k', tenant: 't', tags: { b: '2', a: '1' } }, encryptionContext: { y: '2', x: '1' } };

describe('DecisionCache', () => {
  it('keys are canonical: map order does not matter; any attribute changes the key', () => {
    const same = { ...req, resource: { ...req.resource, tags: { a: '1', b: '2' } }, encryptionContext: { x: '1', y: '2' } };
    expect(decisionKey(same, ['alias/b', 'alias/a'])).toBe(decisionKey(req, ['alias/a', 'alias/b']));
    expect(decisionKey({ ...req, encryptionContext: { x: '1' } }, [])).not.toBe(decisionKey(req, []));
    expect(decisionKey({ ...req, principal: 'q' }, [])).not.toBe(decisionKey(req, []));
    expect(decisionKey(req, ['alias/a'])).not.toBe(decisionKey(req, []));
  });

  it('hits until the TTL, clears on invalidation, and never stores a decision asked before a clear', () => {
    let now = 1_000;
    const c = new DecisionCache({ ttlMs: 100, clock: () => now });
    const g = c.generation;
    c.set('k', { allowed: true }, g);
    now = 1_100;
    expect(c.get('k')).toEqual({ allowed: true }); // still fresh at exactly the TTL (lru-cache: stale once older)
    now = 1_101;
    expect(c.get('k')).toBeUndefined();
    c.set('k', { allowed: true }, c.generation);
    c.clear();
    expect(c.get('k')).toBeUndefined();
    c.set('k', { allowed: true }, g); // asked before the clear
    expect(c.get('k')).toBeUndefined();
  });

  it('drops the least recently used entry when full', () => {
    const c = new DecisionCache({ maxEntries: 10 });
    for (let i = 0; i < 11; i++) c.set(`k${i}`, { allowed: false, reason: 'r' }, c.generation);
    expect(c.size).toBe(10);
    expect(c.get('k0')).toBeUndefined();
    expect(c.get('k10')).toBeDefined();
  });
});
