import fc from 'fast-check';
import { toCef } from '../../../../../libs/client/src/audit-cef';
import { toAuditEntry, type SourceEvent } from './audit-entry';
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
