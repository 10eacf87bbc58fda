import fc from 'fast-check';
import { assetOfUsage, DAY_MS, nextDueAfter, retryDelayMs, rewrapProgress, slotKey } from './schedule.rules';

describe('nextDueAfter', () => {
  const t0 = Date.parse('2030-01-01T00:00:00Z');

  it('served on time or a little late: the next slot is due + period (no drift)', () => {
    expect(nextDueAfter(t0, 30, t0)).toBe(t0 + 30 * DAY_MS);
    expect(nextDueAfter(t0, 30, t0 + 5_000)).toBe(t0 + 30 * DAY_MS);
  });

  it('after downtime of many periods: one slot in the future, on the original cadence (one rotation on catch-up)', () => {
    expect(nextDueAfter(t0, 1, t0 + 10.5 * DAY_MS)).toBe(t0 + 11 * DAY_MS);
    expect(nextDueAfter(t0, 7, t0 + 7 * DAY_MS)).toBe(t0 + 14 * DAY_MS);
  });

  it('refuses a non-positive period', () => {
    expect(() => nextDueAfter(t0, 0, t0)).toThrow(RangeError);
  });

  it('property: the next slot is after now, within one period of it, and on the cadence', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 1, max: 2560 }), fc.integer({ min: 0, max: 2 ** 38 }),
      (due, period, late) => {
        const now = due + late;
        const next = nextDueAfter(due, period, now);
        expect(next).toBeGreaterThan(now);
        expect(next - now).toBeLessThanOrEqual(period * DAY_MS);
        expect((next - due) % (period * DAY_MS)).toBe(0);
        // Serving the next slot at its own time never lands on a past slot again.
        expect(nextDueAfter(next, period, next)).toBe(next + period * DAY_MS);
      },
    ));
  });
});

describe('retryDelayMs', () => {
  it('doubles from 1 s and caps', () => {
    expect([1, 2, 3].map((n) => retryDelayMs(n))).toEqual([1_000, 2_000, 4_000]);
    expect(retryDelayMs(100)).toBe(3_600_000);
    expect(retryDelayMs(5, { initialMs: 100, maxMs: 500 })).toBe(500);
  });
});

describe('slotKey', () => {
  it('is deterministic per slot and differs across kinds, keys, refs and due times', () => {
    const a = slotKey('ROTATE', 'k1', '', 1000);
    expect(slotKey('ROTATE', 'k1', '', 1000)).toBe(a);
    expect(new Set([a, slotKey('DESTROY', 'k1', '', 1000), slotKey('ROTATE', 'k2', '', 1000), slotKey('ROTATE', 'k1', 't', 1000), slotKey('ROTATE', 'k1', '', 1001)]).size).toBe(5);
    expect(a).toMatch(/^[A-Za-z0-9._:-]+$/);
  });
});

describe('rewrapProgress', () => {
  it('2 of 3 assets on the primary is 2/3', () => {
    const p = rewrapProgress('k', 2, new Map([[1, 1], [2, 2]]));
    expect(p).toMatchObject({ totalAssets: 3, onPrimary: 2, byVersion: [{ version: 2, assets: 2 }, { version: 1, assets: 1 }] });
    expect(p.rewrappedShare).toBeCloseTo(2 / 3);
  });
  it('no tracked asset counts as fully re-wrapped', () => {
    expect(rewrapProgress('k', 1, new Map()).rewrappedShare).toBe(1);
  });
});

describe('assetOfUsage', () => {
  const base = { operation: 'GenerateDataKey', outcome: 'ALLOWED', keyId: 'k', keyVersion: 1, tenant: 'acme' };
  it('takes tenant/collection/asset from the context, tenant falling back to the record', () => {
    expect(assetOfUsage({ ...base, encryptionContext: { collection: 'docs', asset: 'a1' } })).toEqual({ tenant: 'acme', collection: 'docs', asset: 'a1', keyId: 'k', keyVersion: 1 });
  });
  it('ignores failures, decrypts, records without an asset and ReEncryptFrom (the source side)', () => {
    expect(assetOfUsage({ ...base, outcome: 'DENIED', encryptionContext: { asset: 'a' } })).toBeNull();
    expect(assetOfUsage({ ...base, operation: 'Decrypt', encryptionContext: { asset: 'a' } })).toBeNull();
    expect(assetOfUsage({ ...base, operation: 'ReEncryptFrom', encryptionContext: { asset: 'a' } })).toBeNull();
    expect(assetOfUsage({ ...base, encryptionContext: { collection: 'docs' } })).toBeNull();
  });
});
