import fc from 'fast-check';
import { cosine, topK } from './cosine';

describe('cosine / topK', () => {
  it('scores parallel 1, orthogonal 0, opposite -1, zero vectors 0', () => {
    const v = (...x: number[]) => Float32Array.from(x);
    expect(cosine(v(1, 2), v(2, 4))).toBeCloseTo(1);
    expect(cosine(v(1, 0), v(0, 3))).toBeCloseTo(0);
    expect(cosine(v(1, 1), v(-1, -1))).toBeCloseTo(-1);
    expect(cosine(v(0, 0), v(1, 1))).toBe(0);
    expect(() => cosine(v(1), v(1, 2))).toThrow(RangeError);
  });

  it('topK returns the k best, best first, and equals a full sort', () => {
    fc.assert(fc.property(fc.array(fc.array(fc.float({ min: -10, max: 10, noNaN: true }), { minLength: 3, maxLength: 3 }), { maxLength: 20 }), fc.nat(25), (rows, k) => {
      const q = Float32Array.from([1, 0.5, -0.25]);
      const items = rows.map((r) => Float32Array.from(r));
      const got = topK(q, items, (x) => x, k);
      expect(got).toHaveLength(Math.min(k, items.length));
      for (let i = 1; i < got.length; i++) expect(got[i - 1]!.score).toBeGreaterThanOrEqual(got[i]!.score);
      const all = items.map((x) => cosine(q, x)).sort((a, b) => b - a);
      expect(got.map((g) => g.score)).toEqual(all.slice(0, got.length));
    }));
  });
});
