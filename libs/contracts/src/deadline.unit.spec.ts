import fc from 'fast-check';
import { DEFAULT_DEADLINE_MS, isPastDeadline, MAX_DEADLINE_MS, parseDeadline } from './headers';

const NOW = 1_800_000_000_000;

describe('parseDeadline (the one deadline rule)', () => {
  it('gives a raw caller without a deadline the default', () => {
    expect(parseDeadline(undefined, NOW)).toEqual({ ok: true, deadline: NOW + DEFAULT_DEADLINE_MS });
  });

  it('turns the time left into a deadline from arrival; no time left is already past', () => {
    expect(parseDeadline('5000', NOW)).toEqual({ ok: true, deadline: NOW + 5_000 });
    expect(parseDeadline('0', NOW)).toEqual({ ok: true, deadline: NOW });
    expect(isPastDeadline(NOW, NOW)).toBe(true);
  });

  it('clamps a far-future deadline to the maximum', () => {
    expect(parseDeadline('999999999', NOW)).toEqual({ ok: true, deadline: NOW + MAX_DEADLINE_MS });
    expect(parseDeadline(String(MAX_DEADLINE_MS + 1), NOW)).toEqual({ ok: true, deadline: NOW + MAX_DEADLINE_MS });
  });

  it.each(['', 'soon', '-5', '1.5', '1e12', ' 1800000000000', '0x10', '1800000000000', 'Infinity', 'NaN', '١٢٣'])('refuses %j with a message naming the header', (raw) => {
    const r = parseDeadline(raw, NOW);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain('Ekm-Timeout-Ms');
  });

  it('property: any accepted deadline is a safe integer no later than now + the maximum', () => {
    fc.assert(fc.property(fc.string({ maxLength: 24 }), fc.integer({ min: 0, max: 4_000_000_000_000 }), (raw, now) => {
      const r = parseDeadline(raw, now);
      if (r.ok) {
        expect(Number.isSafeInteger(r.deadline)).toBe(true);
        expect(r.deadline).toBeLessThanOrEqual(now + MAX_DEADLINE_MS);
        expect(r.deadline).toBeGreaterThanOrEqual(now);
      } else {
        expect(/^[0-9]{1,9}$/.test(raw)).toBe(false);
      }
    }));
  });

  it('a request is past its deadline from the deadline instant on', () => {
    expect(isPastDeadline(NOW, NOW - 1)).toBe(false);
    expect(isPastDeadline(NOW, NOW)).toBe(true);
  });
});
