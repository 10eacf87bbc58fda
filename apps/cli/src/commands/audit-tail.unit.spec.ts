import fc from 'fast-check';
import type { AuditEntry } from '@ekm/client';
import { newestEntries } from './audit-tail';

/** A stream of `kinds` ('e' entry, 'c' checkpoint) at sequences first.. ; entries carry their sequence as leaf. */
function stream(kinds: readonly ('e' | 'c')[], first: number) {
  const seqs = kinds.map((k, i) => ({ seq: first + i, k }));
  const reads: [number, number][] = [];
  const read = async (from: number, to: number): Promise<AuditEntry[]> => {
    reads.push([from, to]);
    return seqs.filter((s) => s.seq >= from && s.seq <= to && s.k === 'e').map((s) => ({ leafIndex: s.seq } as AuditEntry));
  };
  return { read, reads, last: first + kinds.length - 1, entries: seqs.filter((s) => s.k === 'e').map((s) => s.seq) };
}

describe('newestEntries (audit tail -n N)', () => {
  it('property: exactly the newest min(N, entries) entries in order, each sequence read at most once', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.constantFrom<'e' | 'c'>('e', 'e', 'c'), { maxLength: 300 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 1000 }),
      async (kinds, n, first) => {
        const s = stream(kinds, first);
        const got = await newestEntries(n, first, s.last, s.read);
        expect(got.map((e) => e.leafIndex)).toEqual(s.entries.slice(-n));
        const covered = s.reads.flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i));
        expect(new Set(covered).size).toBe(covered.length);
      }), { numRuns: 200 });
  });

  it('with more checkpoints than entries at the end it reads further back instead of printing fewer', async () => {
    const s = stream(['e', 'e', 'e', ...Array<'c'>(100).fill('c')], 1);
    expect((await newestEntries(2, 1, s.last, s.read)).map((e) => e.leafIndex)).toEqual([2, 3]);
  });

  it('an empty stream reads nothing', async () => {
    const s = stream([], 1);
    expect(await newestEntries(5, 0, 0, s.read)).toEqual([]);
    expect(s.reads).toEqual([]);
  });
});
