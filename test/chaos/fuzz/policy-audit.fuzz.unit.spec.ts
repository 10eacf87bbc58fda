import fc from 'fast-check';
import { globMatch, parsePolicyDocument } from '@ekm/policy-engine';
import { parseCheckpointPayload } from '../../../apps/audit/src/trail/application/hash-chain';
import { InvalidSourceEventError, toAuditEntry, type SourceEvent } from '../../../apps/audit/src/trail/domain/audit-entry';
import { canonicalJson, type Json } from '../../../apps/audit/src/trail/domain/canonical-json';
import { anyBody, fuzz, fuzzReport } from './fuzz-support';

afterAll(() => console.log(`policy/audit fuzzing\n${fuzzReport()}`));

const typedParsed = (r: unknown): void => {
  const p = r as { ok: boolean; issues?: unknown[] };
  if (!p.ok) expect(Array.isArray(p.issues) && p.issues.length > 0).toBe(true);
};

describe('policy documents', () => {
  const condition = fc.oneof(
    fc.record({ op: fc.constantFrom('equals', 'in', 'glob', 'present', 'before', 'after', 'nope'), key: fc.string({ maxLength: 300 }), value: fc.jsonValue({ maxDepth: 1 }), values: fc.jsonValue({ maxDepth: 1 }), pattern: fc.string({ maxLength: 1100 }) }, { requiredKeys: ['op'] }),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const statement = fc.record({
    sid: fc.string({ maxLength: 80 }), effect: fc.constantFrom('Allow', 'Deny', 'allow', 1),
    principals: fc.array(fc.string({ unit: 'binary', maxLength: 300 }), { maxLength: 5 }), roles: fc.array(fc.string({ maxLength: 80 }), { maxLength: 5 }),
    actions: fc.array(fc.oneof(fc.string({ maxLength: 80 }), fc.constantFrom('*', 'keys:*', 'keys:Generate*', `keys:${'*?'.repeat(32)}`)), { maxLength: 5 }),
    resources: fc.array(fc.string({ unit: 'binary', maxLength: 600 }), { maxLength: 5 }), conditions: fc.array(condition, { maxLength: 5 }),
  }, { requiredKeys: [] });
  const doc = fc.record({ version: fc.constantFrom('2026-01-01', 1, '1'), description: fc.string({ maxLength: 1100 }), statements: fc.array(statement, { maxLength: 8 }) }, { requiredKeys: [] });

  it('any value and hostile documents: { ok } or { ok: false, issues }, never a throw, < 100 ms', () => {
    fuzz('policy.parsePolicyDocument', fc.oneof(anyBody, doc), parsePolicyDocument, [], { numRuns: 2000, check: typedParsed });
  });

  it('1000 statements (the limit), about 0.9 MB (under EKM_MAX_REQUEST_BYTES), parse in < 100 ms', () => {
    const big = { version: '2026-01-01', statements: Array.from({ length: 1000 }, (_, i) => ({ sid: `s${i}`, effect: 'Allow', principals: ['*'], actions: ['keys:*'], resources: ['*'], conditions: [{ op: 'glob', key: 'k', pattern: '*'.repeat(800) }] })) };
    fuzz('policy.parsePolicyDocument (1000 statements)', fc.constant(big), parsePolicyDocument, [], { numRuns: 3, check: typedParsed });
  });

  it('glob conditions and resource globs: hostile pattern/value pairs stay < 100 ms (no catastrophic backtracking)', () => {
    const star = fc.array(fc.constantFrom('*', 'a', '?', '*a', 'a*'), { minLength: 1, maxLength: 400 }).map((p) => p.join('').slice(0, 1024));
    const value = fc.oneof(fc.string({ maxLength: 1024 }), fc.nat(1024).map((n) => 'a'.repeat(n)), fc.nat(1024).map((n) => `${'a'.repeat(n)}b`));
    const worst = fc.constant([`${'*a'.repeat(30)}*b`, 'a'.repeat(1000)] as const);
    fuzz('policy.globMatch', fc.oneof(fc.tuple(star, value), worst), ([p, v]) => globMatch(p, v), [], { numRuns: 500 });
  });

  it('globMatch agrees with the RegExp definition (`*` any run, `?` one character) on small inputs', () => {
    const reference = (p: string, v: string): boolean =>
      new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[\\s\\S]*').replace(/\?/g, '[\\s\\S]')}$`).test(v);
    const small = fc.string({ unit: fc.constantFrom('a', 'b', '*', '?', '.', '\\', '('), maxLength: 8 });
    fc.assert(fc.property(small, fc.string({ unit: fc.constantFrom('a', 'b', '.', '*', '?', '\\'), maxLength: 10 }), (p, v) => globMatch(p, v) === reference(p, v)), { numRuns: 3000 });
  });
});

describe('audit checkpoints and entries', () => {
  const realPayload = canonicalJson({ v: 1, treeSize: 10, root: 'ab'.repeat(32), signedAt: '2026-01-01T00:00:00.000Z', keyId: 'k' });
  it('checkpoint payloads: a payload or null, never a throw', () => {
    const mutated = fc.tuple(fc.nat(realPayload.length - 1), fc.string({ maxLength: 3 })).map(([i, s]) => realPayload.slice(0, i) + s + realPayload.slice(i + 1));
    const arb = fc.oneof(fc.string({ unit: 'binary', maxLength: 2000 }), fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), mutated, fc.constantFrom('null', '[]', '{"v":1,"treeSize":1e400}', '{"__proto__":{"v":1}}'));
    fuzz('audit.parseCheckpointPayload', arb, parseCheckpointPayload, [], { numRuns: 2000, check: (p) => { if (p !== null) expect((p as { v: number }).v).toBe(1); } });
  });

  const sourceEvent = (recordedAt: fc.Arbitrary<string>): fc.Arbitrary<SourceEvent> => fc.record({
      service: fc.constantFrom('keys', 'policy', 'rotation', 'audit', 'x'), eventId: fc.string(), type: fc.constantFrom('KeyUsageRecorded', 'AuthenticationFailed', 'KeyCreated', 'PolicyPut', 'Weird'),
      streamId: fc.string(), streamPosition: fc.integer(), globalPosition: fc.string(),
      recordedAt,
      data: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.record({ operation: fc.jsonValue(), outcome: fc.oneof(fc.jsonValue(), fc.constantFrom('toString', 'constructor', '__proto__', 'hasOwnProperty', 'ALLOWED')), keyId: fc.jsonValue(), keyVersion: fc.jsonValue(), encryptionContext: fc.jsonValue({ maxDepth: 2 }), principal: fc.jsonValue(), requestId: fc.jsonValue(), reason: fc.jsonValue() }, { requiredKeys: [] })),
      meta: fc.record({ actor: fc.string(), correlationId: fc.string(), traceparent: fc.string() }, { requiredKeys: [] }),
    });

  it('source events (bus envelopes / rows) with hostile data and meta: an entry, never a throw', () => {
    const iso = fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(253402300799999) }).map((d) => d.toISOString());
    fuzz('audit.toAuditEntry + canonicalJson', sourceEvent(iso), (e) => canonicalJson(toAuditEntry(e, 1) as unknown as Json), [], { numRuns: 2000 });
  });

  // Found by this fuzzing: an unparseable recordedAt made toAuditEntry throw RangeError (the consumer
  // then retried the whole batch 20 times). Now a typed refusal, and the consumer's parse dead-letters it.
  it('source events with an unparseable recordedAt: a typed refusal', () => {
    fuzz('audit.toAuditEntry (bad recordedAt)', sourceEvent(fc.constantFrom('', 'yesterday', '2026-13-45T99:99:99Z')), (e) => toAuditEntry(e, 1), [InvalidSourceEventError], { numRuns: 20 });
    expect(() => toAuditEntry({ service: 'keys', eventId: 'e', type: 'KeyCreated', streamId: 's', streamPosition: 1, globalPosition: '1', recordedAt: 'yesterday', data: {}, meta: {} } as unknown as SourceEvent, 1)).toThrow(InvalidSourceEventError);
  });
});
