import fc from 'fast-check';
import { BUS_ERROR_CODES } from '@ekm/contracts';
import { AWS_EXCEPTIONS, awsErrorOf } from './aws-error';
import { accountOf, aliasArn, keyArn, parseAliasName, parseKeyRef } from './key-refs';
import { page } from '../operations/paging';

const ID = '0b6f1c2e-8c1d-4f5e-9a7b-3c2d1e0f9a8b';

describe('key references', () => {
  it('accepts key id, key ARN, alias name and alias ARN', () => {
    const acct = accountOf('acme');
    expect(acct).toMatch(/^\d{12}$/);
    expect(parseKeyRef('KeyId', ID)).toEqual({ ref: ID });
    expect(parseKeyRef('KeyId', keyArn('us-east-1', 'acme', ID))).toEqual({ ref: ID, account: acct });
    expect(parseKeyRef('KeyId', 'alias/docs')).toEqual({ ref: 'alias/docs' });
    expect(parseKeyRef('KeyId', aliasArn('eu-west-1', 'acme', 'alias/docs'))).toEqual({ ref: 'alias/docs', account: acct });
  });

  it('refuses what AWS refuses, with its exception names', () => {
    const name = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        return (e as Error).name;
      }
      return 'none';
    };
    expect(name(() => parseKeyRef('KeyId', 'arn:aws:kms:us-east-1:1:key/x'))).toBe('InvalidArnException');
    expect(name(() => parseKeyRef('KeyId', 'not-a-key'))).toBe('NotFoundException');
    expect(name(() => parseKeyRef('KeyId', 'alias/docs', false))).toBe('NotFoundException');
    expect(name(() => parseKeyRef('KeyId', 42))).toBe('ValidationException');
    expect(name(() => parseAliasName('alias/aws/s3'))).toBe('InvalidAliasNameException');
    expect(name(() => parseAliasName('docs'))).toBe('InvalidAliasNameException');
  });

  it('property: accounts are stable 12-digit ids and tenants rarely collide', () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 64 }), (t) => {
      expect(accountOf(t)).toMatch(/^\d{12}$/);
      expect(accountOf(t)).toBe(accountOf(t));
      expect(parseKeyRef('KeyId', keyArn('us-east-1', t, ID)).account).toBe(accountOf(t));
    }));
  });
});

describe('AWS errors', () => {
  it('maps every bus code to an AWS exception with its status', () => {
    for (const code of BUS_ERROR_CODES) {
      const e = awsErrorOf('Encrypt', { code: code, message: 'm' });
      expect(Object.keys(AWS_EXCEPTIONS)).toContain(e.type);
      expect(e.toBody()).toEqual({ __type: e.type, message: e.type === 'KMSInternalException' ? 'internal error' : 'm' });
    }
    const notActive = (keyStatus: unknown, message = 'm'): string => awsErrorOf('Encrypt', { code: 'EKM_KEY_NOT_ACTIVE', message, details: { rejection: 'INVALID_KEY_STATE', keyStatus } }).type;
    expect(notActive('Disabled')).toBe('DisabledException');
    expect(notActive('Destroyed')).toBe('NotFoundException');
    expect(notActive('PendingDeletion')).toBe('KMSInvalidStateException');
    expect(notActive(42)).toBe('KMSInvalidStateException');
    expect(notActive('toString')).toBe('KMSInvalidStateException');
    // The message text decides nothing: only the typed detail does.
    expect(awsErrorOf('Encrypt', { code: 'EKM_KEY_NOT_ACTIVE', message: 'key k is Disabled' }).type).toBe('KMSInvalidStateException');
    expect(notActive('PendingDeletion', 'key k is Disabled')).toBe('KMSInvalidStateException');
    expect(awsErrorOf('Decrypt', { code: 'EKM_CONTEXT_MISMATCH', message: 'x' }).type).toBe('InvalidCiphertextException');
    expect(awsErrorOf('CreateAlias', { code: 'EKM_CONFLICT', message: 'x' }).type).toBe('AlreadyExistsException');
    expect(awsErrorOf('Encrypt', { code: 'EKM_INTERNAL', message: 'secret detail' }).message).toBe('internal error');
    expect(awsErrorOf('Encrypt', { code: 'EKM_UNAVAILABLE', message: 'x' }).status).toBe(503);
    expect(awsErrorOf('Encrypt', { code: 'toString', message: 'x' }).type).toBe('KMSInternalException');
  });
});

describe('paging', () => {
  it('property: following NextMarker visits every item once, in order', () => {
    fc.assert(fc.property(fc.array(fc.integer(), { maxLength: 60 }), fc.integer({ min: 1, max: 20 }), (items, limit) => {
      const seen: number[] = [];
      let marker: string | undefined;
      for (let i = 0; i < 100; i++) {
        const p = page(items, { Limit: limit, ...(marker !== undefined ? { Marker: marker } : {}) });
        seen.push(...p.items);
        expect(p.Truncated).toBe(p.NextMarker !== undefined);
        marker = p.NextMarker;
        if (!marker) break;
      }
      expect(seen).toEqual(items);
    }));
  });

  it('refuses a marker it did not issue', () => {
    expect(() => page([1, 2], { Marker: 'bogus' })).toThrow(expect.objectContaining({ type: 'InvalidMarkerException' }));
  });
});
