import fc from 'fast-check';
import { assetOfUsage, assetWrapsOf, DAY_MS, nextDueAfter, retryDelayMs, rewrapProgress, slotKey, usageRecordsOf } from './schedule.rules';

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

describe('usage records of an event, and the asset writes they make', () => {
  const rec = (asset: string | undefined, at: string, over: Record<string, unknown> = {}) => ({
    operation: 'GenerateDataKey', outcome: 'ALLOWED', keyId: 'k1', keyVersion: 1, tenant: 't1', at,
    encryptionContext: asset === undefined ? { tenant: 't1' } : { tenant: 't1', collection: 'c', asset }, ...over,
  });

  it('a single record, a batch, anything else', () => {
    expect(usageRecordsOf('KeyUsageRecorded', { a: 1 })).toEqual([{ a: 1 }]);
    expect(usageRecordsOf('KeyUsageBatchRecorded', { records: [{ a: 1 }, { a: 2 }] })).toEqual([{ a: 1 }, { a: 2 }]);
    expect(usageRecordsOf('KeyUsageBatchRecorded', { records: 'x' })).toEqual([]);
    expect(usageRecordsOf('KeyUsageBatchRecorded', null)).toEqual([]);
    expect(usageRecordsOf('KeyCreated', { records: [] })).toBeNull();
  });

  it('only asset-producing records write; non-objects, denials, decrypts and unnamed assets do not', () => {
    const wraps = assetWrapsOf([
      rec('a1', '2030-01-01T00:00:00.000Z'), rec(undefined, '2030-01-01T00:00:00.000Z'), rec('a2', '2030-01-01T00:00:00.000Z', { outcome: 'DENIED' }),
      rec('a3', '2030-01-01T00:00:00.000Z', { operation: 'Decrypt' }), null, 7, 'x',
    ], '2030-01-02T00:00:00.000Z');
    expect(wraps).toEqual([{ tenant: 't1', collection: 'c', asset: 'a1', keyId: 'k1', keyVersion: 1, wrappedAt: '2030-01-01T00:00:00.000Z', operation: 'GenerateDataKey' }]);
    expect(assetWrapsOf([rec('a1', '2030-01-01T00:00:00.000Z', { at: undefined })], '2030-01-02T00:00:00.000Z')[0].wrappedAt).toBe('2030-01-02T00:00:00.000Z');
  });

  it('one write per asset: the same final state as applying the records one by one (last wrap by time wins, ties to the later)', () => {
    fc.assert(fc.property(fc.array(fc.record({ asset: fc.constantFrom('a', 'b', 'c'), minute: fc.integer({ min: 0, max: 5 }), version: fc.integer({ min: 1, max: 9 }) }), { maxLength: 30 }), (rs) => {
      const records = rs.map((r) => rec(r.asset, new Date(Date.UTC(2030, 0, 1, 0, r.minute)).toISOString(), { keyVersion: r.version }));
      // Sequential reference: an upsert guarded by `stored.wrappedAt <= new.wrappedAt`.
      const table = new Map<string, { version: number; at: number }>();
      for (const r of rs) {
        const at = Date.UTC(2030, 0, 1, 0, r.minute);
        const cur = table.get(r.asset);
        if (cur === undefined || cur.at <= at) table.set(r.asset, { version: r.version, at });
      }
      const wraps = assetWrapsOf(records, '2030-01-01T00:00:00.000Z');
      expect(new Set(wraps.map((w) => w.asset)).size).toBe(wraps.length);
      expect(new Map(wraps.map((w) => [w.asset, { version: w.keyVersion, at: Date.parse(w.wrappedAt) }]))).toEqual(table);
    }));
  });
});
