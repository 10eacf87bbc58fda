import fc from 'fast-check';
import { toCef } from '../../../../../libs/client/src/audit-cef';
import { expandSource, InvalidSourceEventError, MAX_BATCH_ITEMS, toAuditEntry, USAGE_BATCH_EVENT, type AuditEntry, type SourceEvent } from './audit-entry';
import { canonicalJson, type Json } from './canonical-json';

const ev = (over: Partial<SourceEvent> = {}): SourceEvent => ({
  service: 'keys', eventId: 'e-1', type: 'KeyUsageRecorded', streamId: 'usage-1', streamPosition: 3, globalPosition: '9',
  recordedAt: '2026-01-02T03:04:05.000Z', meta: { actor: 'svc' },
  data: { requestId: 'r', principal: 'alice', tenant: 'acme', operation: 'Decrypt', keyId: 'k', keyVersion: 2, encryptionContext: { collection: 'docs' }, outcome: 'DENIED', errorCode: 'EKM_FORBIDDEN', reason: 'explicit deny', traceId: 't', at: 'x' },
  ...over,
});

describe('toAuditEntry', () => {
  it('maps a usage record field by field', () => {
    expect(toAuditEntry(ev(), 7)).toEqual({
      schema: 'ekm.audit.v1', leafIndex: 7, time: '2026-01-02T03:04:05.000Z', timeMs: Date.parse('2026-01-02T03:04:05.000Z'), category: 'key_usage',
      action: 'Decrypt', outcome: 'denied', reason: 'explicit deny', errorCode: 'EKM_FORBIDDEN', actor: { principal: 'alice' },
      resource: { type: 'key', id: 'k' }, tenant: 'acme', keyId: 'k', keyVersion: 2, encryptionContext: { collection: 'docs' },
      request: { id: 'r', traceId: 't' },
      source: { service: 'keys', eventId: 'e-1', eventType: 'KeyUsageRecorded', streamId: 'usage-1', streamPosition: 3, globalPosition: '9' },
    });
  });
  it('never copies unknown usage fields (a stray blob or plaintext stays out)', () => {
    const e = toAuditEntry(ev({ data: { ...(ev().data as object), plaintext: 'SECRET', ciphertextBlob: 'BLOB' } }), 1);
    expect(JSON.stringify(e)).not.toMatch(/SECRET|BLOB/);
  });
  // Both found by the fuzzing in test/chaos/fuzz (a CI run): hostile data as JSON.parse hands it over.
  it('a lifecycle outcome that is an object with its own toString does not throw; it is not a decision', () => {
    const e = toAuditEntry(ev({ type: 'Weird', data: JSON.parse('{"outcome":{"toString":""},"effect":{"valueOf":1}}') }), 1);
    expect(e.outcome).toBe('success');
    expect(() => canonicalJson(e as unknown as Json)).not.toThrow();
    expect(toAuditEntry(ev({ type: 'PolicyDecided', data: { effect: 7, decision: 'Deny' } }), 1).outcome).toBe('denied');
  });
  it('an own "__proto__" member of hostile data stays an own member of the details, and the entry still hashes', () => {
    const data = JSON.parse('{"operation":{"__proto__":[1]},"encryptionContext":{"__proto__":"x"},"__proto__":{"a":"b"}}') as object;
    for (const type of ['PolicyPut', 'KeyUsageRecorded']) {
      const e = toAuditEntry(ev({ type, data }), 1);
      expect(() => canonicalJson(e as unknown as Json)).not.toThrow();
      const round = JSON.parse(canonicalJson(e as unknown as Json)) as AuditEntry;
      if (type === 'PolicyPut') {
        expect(Object.getPrototypeOf(e.details)).toBe(Object.prototype);
        expect(Object.hasOwn(e.details as object, '__proto__')).toBe(true);
        expect((round.details as Record<string, unknown>).operation).toEqual(JSON.parse('{"__proto__":[1]}'));
      } else {
        expect(e.encryptionContext && Object.hasOwn(e.encryptionContext, '__proto__')).toBe(true);
      }
    }
  });
  it('property: any JSON in any field (objects with their own toString too): an entry that hashes, or InvalidSourceEventError', () => {
    const hostile = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(JSON.parse('{"toString":"","valueOf":""}') as unknown), fc.constant(JSON.parse('{"__proto__":[]}') as unknown));
    const fields = fc.record({ service: hostile, eventId: hostile, type: fc.oneof(hostile, fc.constantFrom('KeyUsageRecorded', 'KeyUsageBatchRecorded', 'AccessDenied', 'AuthenticationFailed')), streamId: hostile, recordedAt: fc.oneof(hostile, fc.constant('2026-01-02T03:04:05.000Z')), data: hostile, item: fc.option(hostile, { nil: undefined }) });
    fc.assert(fc.property(fields, (f) => {
      try {
        canonicalJson(toAuditEntry({ streamPosition: 1, globalPosition: '1', meta: {}, ...f } as unknown as SourceEvent, 1) as unknown as Json);
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidSourceEventError);
      }
    }), { numRuns: 500 });
  });
  it('maps authentication failures and lifecycle events', () => {
    expect(toAuditEntry(ev({ type: 'AuthenticationFailed', data: { principalId: 'm', reason: 'REPLAYED' } }), 1)).toMatchObject({ category: 'authentication', outcome: 'denied', actor: { principal: 'm' }, reason: 'REPLAYED' });
    expect(toAuditEntry(ev({ type: 'KeyRotated', data: { keyId: 'k', from: 1, to: 2 }, meta: { actor: 'ops' } }), 1)).toMatchObject({ category: 'key_lifecycle', action: 'KeyRotated', outcome: 'success', keyId: 'k', keyVersion: 2, actor: { principal: 'ops' } });
  });
  it('is total: any data gives an entry whose canonical JSON is valid and NUL-free (property)', () => {
    fc.assert(fc.property(fc.string(), fc.anything(), (type, data) => {
      const text = canonicalJson(toAuditEntry(ev({ type, data }), 1) as unknown as Json);
      expect(text).not.toContain('\\u0000');
      expect(JSON.parse(text)).toMatchObject({ leafIndex: 1 });
    }));
  });
});

describe('toCef', () => {
  it('renders the header and escapes pipes, equals signs and newlines', () => {
    const e = toAuditEntry(ev({ data: { ...(ev().data as object), reason: 'a=b|c\nd' } }), 5);
    const line = toCef(e as never);
    expect(line.startsWith('CEF:0|EKM|ekm-audit|1|key_usage:Decrypt|Decrypt|7|')).toBe(true);
    expect(line).toContain('reason=a\\=b|c\\nd');
    expect(line).toContain('externalId=5');
    expect(line).toContain('ekmCtx.collection=docs');
    expect(line).not.toContain('\n');
  });
});

describe('expandSource (usage batches)', () => {
  const rec = (principal: string): Record<string, unknown> => ({ requestId: `r-${principal}`, principal, operation: 'Decrypt', keyId: 'k', keyVersion: 1, outcome: 'ALLOWED', at: 'x' });
  const batchOf = (records: unknown): SourceEvent => ev({ type: USAGE_BATCH_EVENT, data: { records }, meta: { actor: 'first', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } });

  it('expands a batch into one event per record, in order, each mapped like a single record', () => {
    const out = expandSource(batchOf([rec('ann'), rec('bob')]));
    expect(out.map((e) => e.item)).toEqual([0, 1]);
    const entries = out.map((e, n) => toAuditEntry(e, n + 1));
    expect(entries.map((e) => e.actor.principal)).toEqual(['ann', 'bob']);
    expect(entries.map((e) => e.source)).toEqual([0, 1].map((item) => ({ service: 'keys', eventId: 'e-1', eventType: USAGE_BATCH_EVENT, streamId: 'usage-1', streamPosition: 3, globalPosition: '9', item })));
    expect(entries.every((e) => e.category === 'key_usage')).toBe(true);
  });

  it('does not attribute a record without a principal to the batch metadata actor', () => {
    const [e] = expandSource(batchOf([{ operation: 'Decrypt', outcome: 'ALLOWED' }]));
    expect(toAuditEntry(e, 1).actor.principal).toBe('unknown');
  });

  it('leaves other events alone; a batch without usable records stays one event that the mapping refuses (quarantine)', () => {
    const single = ev();
    expect(expandSource(single)).toEqual([single]);
    for (const bad of [undefined, 'x', [], Array.from({ length: MAX_BATCH_ITEMS + 1 }, () => rec('a'))]) {
      const out = expandSource(batchOf(bad));
      expect(out).toHaveLength(1);
      expect(out[0].item).toBeUndefined();
      expect(() => toAuditEntry(out[0], 1)).toThrow(InvalidSourceEventError);
    }
    // A record that is not an object is refused alone.
    const [, second] = expandSource(batchOf([rec('a'), 42]));
    expect(() => toAuditEntry(second, 2)).toThrow(InvalidSourceEventError);
  });

  it('property: n records give n entries with items 0..n-1, each the entry its record would give as a single event', () => {
    fc.assert(fc.property(fc.array(fc.record({ principal: fc.string({ minLength: 1, maxLength: 8 }), operation: fc.constantFrom('Decrypt', 'Encrypt', 'GenerateDataKey'), outcome: fc.constantFrom('ALLOWED', 'DENIED', 'FAILED'), keyVersion: fc.integer({ min: 1, max: 9 }) }), { minLength: 1, maxLength: 40 }), (records) => {
      const out = expandSource(batchOf(records));
      expect(out.map((e) => e.item)).toEqual(records.map((_, n) => n));
      out.forEach((e, n) => {
        const { source, ...rest } = toAuditEntry(e, n + 1) as AuditEntry & { source: AuditEntry['source'] };
        const { source: singleSource, ...asSingle } = toAuditEntry(ev({ data: records[n], meta: {} }), n + 1);
        expect(rest).toEqual(asSingle);
        expect(source).toEqual({ ...singleSource, eventType: USAGE_BATCH_EVENT, item: n });
      });
    }));
  });
});
