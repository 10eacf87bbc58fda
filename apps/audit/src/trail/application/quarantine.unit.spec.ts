import fc from 'fast-check';
import { unsafeStringIssues } from '@ekm/contracts';
import type { SourceEvent } from '../domain/audit-entry';
import { buildEntry, sourceDigest } from './quarantine';

const usage = (data: Record<string, unknown>, over: Partial<SourceEvent> = {}): SourceEvent => ({
  service: 'keys', eventId: '6f1c8a52-3a8e-4c1b-9d4e-2b8f0c7a1e11', type: 'KeyUsageRecorded', streamId: 'usage-1', streamPosition: 7, globalPosition: '42',
  recordedAt: '2026-12-01T00:00:00.000Z', data: { principal: 'alice', operation: 'Decrypt', outcome: 'DENIED', ...data }, meta: { actor: 'alice' }, ...over,
});
const NOW = new Date('2026-12-07T00:00:00.000Z');

describe('quarantined entries', () => {
  it.each([
    ['a key version past Postgres integer (a hand-made blob header)', usage({ keyVersion: 2 ** 31 + 1 }), /keyVersion/],
    ['a lone surrogate in the context', usage({ encryptionContext: { x: 'a\ud800' } }), /unpaired/],
    ['a lone surrogate in a context key', usage({ encryptionContext: { '\udc00': 'v' } }), /key/],
    ['no valid recordedAt', usage({}, { recordedAt: 'yesterday' }), /could not be built/],
    ['a stream position past integer', usage({}, { streamPosition: 2 ** 40 }), /streamPosition/],
  ])('%s becomes a storable quarantined entry', (_what, e, reason) => {
    const b = buildEntry(e, 12, NOW);
    expect(b.quarantined).toBe(true);
    expect(b.entry).toMatchObject({ leafIndex: 12, category: 'quarantine', action: 'Quarantined', outcome: 'failure', actor: { principal: 'ekm-audit' } });
    expect(b.entry.quarantine).toEqual({ sha256: sourceDigest(e), reason: expect.stringMatching(reason) });
    expect(b.entry.source).toMatchObject({ service: 'keys', eventId: e.eventId, globalPosition: '42' });
    // No payload (the reason names a field, never a value): no context, no version, no principal.
    expect(b.text).not.toMatch(/"encryptionContext":|"keyVersion":|alice|2147483649|\\u[dD][89a-fA-F]/);
    expect(unsafeStringIssues(JSON.parse(b.text))).toEqual([]);
  });

  it('keeps an ordinary record as it is', () => {
    const b = buildEntry(usage({ keyVersion: 3, encryptionContext: { collection: 'docs 😀' } }), 1, NOW);
    expect(b.quarantined).toBe(false);
    expect(b.entry).toMatchObject({ category: 'key_usage', keyVersion: 3 });
  });

  it('property: any record, however hostile, gives an entry the trail can store', () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('\u0000', '\ud800x', 'toString', '__proto__'));
    const value = fc.oneof(text, fc.integer(), fc.double(), fc.constant(2 ** 53), fc.boolean(), fc.constant(null));
    const ev = fc.record({
      eventId: text, type: fc.oneof(text, fc.constant('KeyUsageRecorded')), streamId: text, streamPosition: fc.oneof(fc.integer(), fc.constant(2 ** 33)),
      recordedAt: fc.oneof(text, fc.date({ noInvalidDate: true }).map((d) => d.toISOString())), data: fc.dictionary(text, fc.oneof(value, fc.dictionary(text, value))),
    });
    fc.assert(fc.property(ev, (r) => {
      const b = buildEntry({ service: 'keys', globalPosition: '1', meta: {}, ...r } as SourceEvent, 5, NOW);
      const parsed = JSON.parse(b.text) as { keyVersion?: number; source: { streamPosition?: number } };
      expect(unsafeStringIssues(parsed)).toEqual([]);
      if (parsed.keyVersion !== undefined) expect(Math.abs(parsed.keyVersion)).toBeLessThan(2 ** 31);
      if (parsed.source.streamPosition !== undefined) expect(parsed.source.streamPosition).toBeLessThan(2 ** 31);
    }), { numRuns: 300 });
  });

  it('identifying fields that are not strings (objects with their own toString, arrays, numbers) still give a storable entry', () => {
    const hostile = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(JSON.parse('{"toString":"","valueOf":""}') as unknown), fc.constant(JSON.parse('{"__proto__":[]}') as unknown));
    fc.assert(fc.property(fc.record({ service: hostile, eventId: hostile, type: hostile, streamId: hostile, recordedAt: hostile, globalPosition: hostile, data: hostile }), (r) => {
      const b = buildEntry({ streamPosition: 1, meta: {}, ...r } as unknown as SourceEvent, 5, NOW);
      expect(unsafeStringIssues(JSON.parse(b.text))).toEqual([]);
      expect(sourceDigest({ ...r } as unknown as SourceEvent)).toMatch(/^[0-9a-f]{64}$/);
    }), { numRuns: 300 });
  });
});
