import fc from 'fast-check';
import { backoffDelay } from './backoff';

describe('backoffDelay (the one backoff of the SDK, the consumers and the scheduler)', () => {
  it('doubles from initialMs up to maxMs, and jitter only shortens', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, { initialMs: 100, maxMs: 1000 }))).toEqual([100, 200, 400, 800, 1000]);
    fc.assert(fc.property(fc.integer({ min: 1, max: 100 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 0.999, noNaN: true }), (attempt, jitter, r) => {
      const d = backoffDelay(attempt, { initialMs: 50, maxMs: 5000, jitter }, () => r);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(backoffDelay(attempt, { initialMs: 50, maxMs: 5000 }));
    }));
  });

  it('equals the hand-written formulas it replaced (SDK call retries, rotation slot retries)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 2000 }), (n) => {
      expect(backoffDelay(n, { initialMs: 100, maxMs: 1000 })).toBe(Math.min(1000, 50 * 2 ** n));
      expect(backoffDelay(n, { initialMs: 1_000, maxMs: 3_600_000 })).toBe(Math.min(3_600_000, 1_000 * 2 ** Math.min(n - 1, 40)));
    }));
  });
});
