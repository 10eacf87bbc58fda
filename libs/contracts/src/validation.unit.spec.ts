import fc from 'fast-check';
import { z } from 'zod';
import { BusErrorCode } from './error-codes';
import { formatPath, integerBetween, MAX_REQUEST_BYTES, parseRequest } from './validation';

const GenerateDataKey = z.strictObject({
  keyId: z.string().min(1),
  numberOfBytes: integerBetween(1, 1024),
  context: z.record(z.string(), z.string()).optional(),
  spec: z.enum(['AES_256', 'AES_128']).optional(),
  items: z.array(z.strictObject({ id: z.uuid() })).max(3).optional(),
});

const failure = (body: unknown) => {
  const r = parseRequest(GenerateDataKey, body);
  if (r.ok) throw new Error('expected a validation failure');
  return r.error;
};

describe('parseRequest', () => {
  it('returns the typed value for a valid body', () => {
    const r = parseRequest(GenerateDataKey, { keyId: 'k1', numberOfBytes: 32 });
    expect(r).toEqual({ ok: true, data: { keyId: 'k1', numberOfBytes: 32 } });
  });

  it.each([0, 1025, 1.5, -3])('names the path and the range rule for numberOfBytes=%p', (n) => {
    const e = failure({ keyId: 'k1', numberOfBytes: n });
    expect(e.code).toBe(BusErrorCode.Validation);
    expect(e.message).toBe('numberOfBytes: must be an integer between 1 and 1024');
    expect(e.details).toEqual({ issues: [{ path: 'numberOfBytes', rule: 'must be an integer between 1 and 1024' }] });
  });

  it('says which field is missing and which has the wrong type', () => {
    const e = failure({ numberOfBytes: '32' });
    expect(e.message).toContain('keyId: is required');
    expect(e.message).toContain('numberOfBytes: must be an integer between 1 and 1024');
  });

  it('names nested paths, enum options, unknown fields and formats', () => {
    expect(failure({ keyId: 'k', numberOfBytes: 1, spec: 'DES' }).message).toBe('spec: must be one of "AES_256", "AES_128"');
    expect(failure({ keyId: 'k', numberOfBytes: 1, extra: 1 }).message).toBe('(request): has unknown field extra');
    expect(failure({ keyId: 'k', numberOfBytes: 1, items: [{ id: 'nope' }] }).message).toBe('items[0].id: must be a valid uuid');
    expect(failure({ keyId: '', numberOfBytes: 1 }).message).toBe('keyId: must have at least 1 characters');
    expect(failure({ keyId: 'k', numberOfBytes: 1, context: { a: 1 } }).message).toBe('context.a: must be a string (got number)');
    expect(failure('hello').message).toBe('(request): must be an object (got string)');
  });

  it('never echoes the rejected value', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]{6,12}$/).map((s) => `Qx${s}`), (secret) => {
        const e = failure({ keyId: 'k', numberOfBytes: secret, spec: secret, context: { a: [secret] }, extra: secret });
        expect(JSON.stringify(e)).not.toContain(secret);
        expect(e.message.split(/[;:,\s]+/)).not.toContain(secret);
      }),
    );
  });

  it('lets a schema-level message win', () => {
    const r = parseRequest(z.object({ name: z.string().min(1, 'must not be empty') }), { name: '' });
    expect(r).toMatchObject({ ok: false, error: { message: 'name: must not be empty' } });
  });
});

describe('formatPath / MAX_REQUEST_BYTES', () => {
  it('formats paths like a JS accessor', () => {
    expect(formatPath([])).toBe('(request)');
    expect(formatPath(['a', 2, 'b'])).toBe('a[2].b');
  });
  it('defaults to 1 MiB', () => expect(MAX_REQUEST_BYTES).toBe(1_048_576));
});
