import fc from 'fast-check';
import { canonicalRequest, requestMac, signatureMatches, signRequest } from './request-signature';

const key = Buffer.alloc(32, 7);
const subjectArb = fc.stringMatching(/^ekm\.v1\.[a-z]{1,8}\.[a-z-]{1,20}$/);
const tsArb = fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }).map(String);
const nonceArb = fc.stringMatching(/^[A-Za-z0-9_-]{16,32}$/);
const bodyArb = fc.uint8Array({ minLength: 0, maxLength: 200 });
const ridArb = fc.stringMatching(/^[A-Za-z0-9._:-]{1,40}$/);

/** A different string of the same length: one character replaced (staying in the alphabet when asked). */
function mutateChar(s: string, at: number, alphabet: string): string {
  const i = at % s.length;
  const c = s[i]!;
  const replacement = alphabet[(alphabet.indexOf(c) + 1) % alphabet.length]!;
  return s.slice(0, i) + replacement + s.slice(i + 1);
}
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('request signature (ekm-req-v2)', () => {
  it('is deterministic: the same inputs give the same MAC, and it verifies', () => {
    fc.assert(fc.property(subjectArb, tsArb, nonceArb, ridArb, bodyArb, (s, t, n, r, b) => {
      const f = { subject: s, timestamp: t, nonce: n, requestId: r };
      const a = requestMac(key, f, b).toString('base64url');
      expect(requestMac(key, { ...f }, Uint8Array.from(b)).toString('base64url')).toBe(a);
      expect(signatureMatches(key, f, b, a)).toBe(true);
    }));
  });

  it('a single changed byte of body, subject, timestamp, nonce, request id or signature fails verification', () => {
    fc.assert(fc.property(subjectArb, tsArb, nonceArb, ridArb, bodyArb, fc.nat(), fc.integer({ min: 1, max: 255 }), fc.constantFrom('body', 'subject', 'timestamp', 'nonce', 'requestId', 'dropRequestId', 'signature', 'key'),
      (s, t, n, r, b, at, delta, part) => {
        const sig = requestMac(key, { subject: s, timestamp: t, nonce: n, requestId: r }, b).toString('base64url');
        let [s2, t2, n2, r2, b2, sig2, key2] = [s, t, n, r, Uint8Array.from(b), sig, Buffer.from(key)];
        switch (part) {
          case 'body':
            if (b2.length === 0) b2 = Uint8Array.of(delta);
            else b2[at % b2.length] = (b2[at % b2.length]! + delta) % 256;
            break;
          case 'subject': s2 = mutateChar(s, at, 'abcdefghijklmnopqrstuvwxyz.-'); break;
          case 'timestamp': t2 = mutateChar(t, at, '0123456789'); break;
          case 'nonce': n2 = mutateChar(n, at, B64URL); break;
          case 'requestId': r2 = mutateChar(r, at, B64URL); break;
          case 'dropRequestId': r2 = ''; break;
          case 'signature': sig2 = mutateChar(sig, at, B64URL); break;
          case 'key': key2[at % 32] = (key2[at % 32]! + delta) % 256; break;
        }
        expect(signatureMatches(key2, { subject: s2, timestamp: t2, nonce: n2, requestId: r2 }, b2, sig2)).toBe(false);
      }), { numRuns: 500 });
  });

  it('matches the worked example of docs/auth.md byte for byte', () => {
    const sessionKey = Buffer.from('AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA', 'base64url');
    const body = Buffer.from('{"keyId":"alias/orders","plaintext":"aGVsbG8="}', 'utf8');
    const f = { subject: 'ekm.v1.keys.encrypt', timestamp: '1767225600000', nonce: 'AAECAwQFBgcICQoLDA0ODw', requestId: 'req-0001' };
    expect(canonicalRequest(f, body)).toBe(
      'ekm-req-v2\nekm.v1.keys.encrypt\n1767225600000\nAAECAwQFBgcICQoLDA0ODw\nreq-0001\n50a111d39a6f7657efa079658d649640b22980c2c26c1b69773ab7194a72e2dc');
    expect(requestMac(sessionKey, f, body).toString('base64url')).toBe('pjY9PUbIJe6ojTuvmBKM_kvjdVA7F521URBavqInFdc');
  });

  it('signRequest sets all four headers, with a fresh nonce each time', () => {
    const session = { token: 'ekm1.x.y', sessionKey: key };
    const a = signRequest(session, 'ekm.v1.keys.encrypt', new Uint8Array(), { now: 1000, requestId: 'r-1' });
    const b = signRequest(session, 'ekm.v1.keys.encrypt', new Uint8Array(), { now: 1000 });
    expect(a['Ekm-Session']).toBe('ekm1.x.y');
    expect(a['Ekm-Timestamp']).toBe('1000');
    expect(a['Ekm-Nonce']).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(a['Ekm-Nonce']).not.toBe(b['Ekm-Nonce']);
    expect(a['Ekm-Request-Id']).toBe('r-1');
    expect(b['Ekm-Request-Id']).toBeUndefined();
    expect(signatureMatches(key, { subject: 'ekm.v1.keys.encrypt', timestamp: '1000', nonce: a['Ekm-Nonce'], requestId: 'r-1' }, new Uint8Array(), a['Ekm-Signature'])).toBe(true);
    expect(signatureMatches(key, { subject: 'ekm.v1.keys.encrypt', timestamp: '1000', nonce: b['Ekm-Nonce'], requestId: '' }, new Uint8Array(), b['Ekm-Signature'])).toBe(true);
  });
});
