import { LruStore } from './lru-store';

describe('LruStore (lru-cache with a dispose hook)', () => {
  const make = (max: number) => {
    const evicted: string[] = [];
    return { store: new LruStore<{ id: string }>(max, (e) => evicted.push(e.id)), evicted };
  };

  it('evicts the least recently used entry beyond the bound, once', () => {
    const { store, evicted } = make(2);
    store.set('a', { id: 'a' });
    store.set('b', { id: 'b' });
    store.get('a'); // a is now the most recently used
    store.set('c', { id: 'c' });
    expect(evicted).toEqual(['b']);
    expect(store.size).toBe(2);
    expect(store.get('b')).toBeUndefined();
  });

  it('every way out goes through onEvict: replacement by another entry, delete, deleteWhere, clear', () => {
    const { store, evicted } = make(10);
    const a = { id: 'a1' };
    store.set('a', a);
    store.set('a', a); // the same entry again is not an eviction
    store.set('a', { id: 'a2' });
    store.set('b', { id: 'b' });
    store.set('c', { id: 'c' });
    store.set('d', { id: 'd' });
    store.delete('b');
    store.delete('missing');
    expect(store.deleteWhere((e) => e.id === 'c')).toBe(1);
    store.clear();
    expect(evicted).toEqual(['a1', 'b', 'c', 'a2', 'd']);
    expect(store.size).toBe(0);
  });
});
