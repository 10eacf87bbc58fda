import { BUS_ERROR_CODES, BusErrorCode, isBusErrorCode, isRetriable, RETRIABLE } from './error-codes';
import { fail, isReply, ok } from './reply';
import { KEYS_OPERATIONS, OPERATIONS, queueGroup, SERVICES, subject, subjectsOf } from './subjects';

describe('error codes', () => {
  it('every code in the table has retriable info, and the retriable table has no stray codes', () => {
    expect(Object.keys(RETRIABLE).sort()).toEqual([...BUS_ERROR_CODES].sort());
    for (const code of BUS_ERROR_CODES) expect(typeof isRetriable(code)).toBe('boolean');
  });
  it('codes are unique, EKM_-prefixed SCREAMING_SNAKE', () => {
    expect(new Set(BUS_ERROR_CODES).size).toBe(BUS_ERROR_CODES.length);
    for (const code of BUS_ERROR_CODES) expect(code).toMatch(/^EKM_[A-Z0-9_]+$/);
  });
  it('classes transient failures as retriable and input errors as terminal', () => {
    expect(isRetriable(BusErrorCode.Unavailable)).toBe(true);
    expect(isRetriable(BusErrorCode.Timeout)).toBe(true);
    expect(isRetriable(BusErrorCode.Validation)).toBe(false);
    expect(isRetriable(BusErrorCode.Internal)).toBe(false);
    expect(isBusErrorCode('EKM_KEY_NOT_FOUND')).toBe(true);
    expect(isBusErrorCode('toString')).toBe(false);
  });
});

describe('reply envelope', () => {
  it('builds both halves', () => {
    expect(ok({ a: 1 })).toEqual({ ok: true, data: { a: 1 } });
    expect(fail(BusErrorCode.KeyNotFound, 'key k_1 does not exist')).toEqual({ ok: false, error: { code: 'EKM_KEY_NOT_FOUND', message: 'key k_1 does not exist' } });
    expect(fail(BusErrorCode.Conflict, 'x', { expected: 3 }).error.details).toEqual({ expected: 3 });
    expect(isReply(ok(null))).toBe(true);
    expect(isReply({ ok: false, error: { code: 'EKM_INTERNAL' } })).toBe(false);
  });
});

describe('subjects', () => {
  it('builds ekm.v1.<service>.<operation>', () => {
    expect(subject('keys', 'generate-data-key')).toBe('ekm.v1.keys.generate-data-key');
    expect(subject('audit', 'status')).toBe('ekm.v1.audit.status');
    expect(queueGroup('policy')).toBe('ekm-policy');
  });
  it('every service answers status; operations are unique kebab-case', () => {
    for (const s of SERVICES) {
      expect(OPERATIONS[s]).toContain('status');
      expect(new Set(OPERATIONS[s]).size).toBe(OPERATIONS[s].length);
      for (const op of OPERATIONS[s]) expect(op).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(subjectsOf(s)).toHaveLength(OPERATIONS[s].length);
    }
    expect(KEYS_OPERATIONS).toHaveLength(42);
  });
});
