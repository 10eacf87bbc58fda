import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import {
  parseAmzDate, parseSigV4Authorization, sigV4ScopeProblem, sigV4Signature, sigV4StringToSign, verifySigV4, type SigV4Authorization,
} from './sigv4';

// AWS's published example (IAM User Guide, "Signature Version 4 signing process", the iam ListUsers GET).
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const AWS_SCOPE = { date: '20150830', region: 'us-east-1', service: 'iam' };
const AWS_STRING_TO_SIGN = 'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\nf536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59';

describe('SigV4', () => {
  it("computes AWS's documented signature", () => {
    expect(sigV4Signature(AWS_SECRET, AWS_SCOPE, AWS_STRING_TO_SIGN)).toBe('5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7');
    expect(verifySigV4(AWS_SECRET, AWS_SCOPE, AWS_STRING_TO_SIGN, '5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7')).toBe(true);
    expect(verifySigV4(AWS_SECRET, AWS_SCOPE, AWS_STRING_TO_SIGN, '5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d8')).toBe(false);
    expect(verifySigV4(AWS_SECRET, AWS_SCOPE, AWS_STRING_TO_SIGN, 'abc')).toBe(false);
  });

  it('builds the canonical request of a KMS POST and refuses unsigned host, missing headers and a wrong body hash', () => {
    const body = Buffer.from('{"KeyId":"alias/x"}');
    const headers: Record<string, string> = { host: '127.0.0.1:7110', 'content-type': 'application/x-amz-json-1.1', 'x-amz-date': '20260101T000000Z', 'x-amz-target': 'TrentService.DescribeKey' };
    const auth: SigV4Authorization = { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', date: '20260101', region: 'us-east-1', service: 'kms', signedHeaders: ['content-type', 'host', 'x-amz-date', 'x-amz-target'], signature: '0'.repeat(64) };
    const req = { method: 'POST', path: '/', query: '', body, amzDate: '20260101T000000Z', auth, header: (n: string) => headers[n] };
    const canonical = ['POST', '/', '', 'content-type:application/x-amz-json-1.1\nhost:127.0.0.1:7110\nx-amz-date:20260101T000000Z\nx-amz-target:TrentService.DescribeKey\n',
      'content-type;host;x-amz-date;x-amz-target', createHash('sha256').update(body).digest('hex')].join('\n');
    const expected = `AWS4-HMAC-SHA256\n20260101T000000Z\n20260101/us-east-1/kms/aws4_request\n${createHash('sha256').update(canonical).digest('hex')}`;
    expect(sigV4StringToSign(req)).toBe(expected);
    expect(sigV4ScopeProblem(expected, auth)).toBeNull();
    expect(sigV4ScopeProblem(expected, { ...auth, region: 'eu-west-1' })).toMatch(/scope/);
    expect(sigV4StringToSign({ ...req, auth: { ...auth, signedHeaders: ['content-type', 'x-amz-date'] } })).toBeNull();
    expect(sigV4StringToSign({ ...req, auth: { ...auth, signedHeaders: ['host', 'x-amz-security-token'] } })).toBeNull();
    expect(sigV4StringToSign({ ...req, header: (n: string) => (n === 'x-amz-content-sha256' ? '0'.repeat(64) : headers[n]) })).toBeNull();
  });

  it('parses the Authorization header and X-Amz-Date strictly', () => {
    const h = `AWS4-HMAC-SHA256 Credential=AKIAAAAAAAAAAAAAAAAA/20260101/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'a'.repeat(64)}`;
    expect(parseSigV4Authorization(h)).toEqual({ accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', date: '20260101', region: 'us-east-1', service: 'kms', signedHeaders: ['host', 'x-amz-date'], signature: 'a'.repeat(64) });
    expect(parseSigV4Authorization(h.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA512'))).toBeNull();
    expect(parseSigV4Authorization(h.replace(/Signature=a+/, 'Signature=zz'))).toBeNull();
    expect(parseSigV4Authorization(undefined)).toBeNull();
    expect(parseAmzDate('20260101T000000Z')).toBe(Date.UTC(2026, 0, 1));
    expect(parseAmzDate('2026-01-01T00:00:00Z')).toBeNull();
  });

  it('property: a signature verifies under its own secret and string only', () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ minLength: 1, maxLength: 40 }), fc.string({ maxLength: 200 }), (secret, other, sts) => {
      const sig = sigV4Signature(secret, AWS_SCOPE, sts);
      expect(sig).toBe(createHmac('sha256', createHmac('sha256', createHmac('sha256', createHmac('sha256', createHmac('sha256', `AWS4${secret}`).update('20150830').digest()).update('us-east-1').digest()).update('iam').digest()).update('aws4_request').digest()).update(sts).digest('hex'));
      expect(verifySigV4(secret, AWS_SCOPE, sts, sig)).toBe(true);
      if (other !== secret) expect(verifySigV4(other, AWS_SCOPE, sts, sig)).toBe(false);
      expect(verifySigV4(secret, AWS_SCOPE, `${sts}x`, sig)).toBe(false);
    }));
  });
});
