import fc from 'fast-check';
import { canonicalRequest, requestMac, signatureMatches, signRequest } from './request-signature';

const key = Buffer.alloc(32, 7);
const subjectArb = fc.stringMatching(/^ekm\.v1\.[a-z]{1,8}\.[a-z-]{1,20}$/);
const tsArb = fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }).map(String);
const nonceArb = fc.stringMatching(/^[A-Za-z0-9_-]{16,32}$/);
const bodyArb = fc.uint8Array({ minLength: 0, maxLength: 200 });

/** A different string of the same length: one character replaced (staying in the alphabet when asked). */
function mutateChar(s: string, at: number, alphabet: string): string {
  const i = at % s.length;
  const c = s[i]!;
  const replacement = alphabet[(alphabet.indexOf(c) + 1) % alphabet.length]!;
  return s.slice(0, i) + replacement + s.slice(i + 1);
}
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('request signature (ekm-req-v1)', () => {
  it('is deterministic: the same inputs give the same MAC, and it verifies', () => {
    fc.assert(fc.property(subjectArb, tsArb, nonceArb, bodyArb, (s, t, n, b) => {
      const a = requestMac(key, s, t, n, b).toString('base64url');
      expect(requestMac(key, s, t, n, Uint8Array.from(b)).toString('base64url')).toBe(a);
      expect(signatureMatches(key, s, t, n, b, a)).toBe(true);
    }));
  });

  it('a single changed byte of body, subject, timestamp, nonce or signature fails verification', () => {
    fc.assert(fc.property(subjectArb, tsArb, nonceArb, bodyArb, fc.nat(), fc.integer({ min: 1, max: 255 }), fc.constantFrom('body', 'subject', 'timestamp', 'nonce', 'signature', 'key'),
      (s, t, n, b, at, delta, part) => {
        const sig = requestMac(key, s, t, n, b).toString('base64url');
        let [s2, t2, n2, b2, sig2, key2] = [s, t, n, Uint8Array.from(b), sig, Buffer.from(key)];
        switch (part) {
          case 'body':
            if (b2.length === 0) b2 = Uint8Array.of(delta);
            else b2[at % b2.length] = (b2[at % b2.length]! + delta) % 256;
            break;
          case 'subject': s2 = mutateChar(s, at, 'abcdefghijklmnopqrstuvwxyz.-'); break;
          case 'timestamp': t2 = mutateChar(t, at, '0123456789'); break;
          case 'nonce': n2 = mutateChar(n, at, B64URL); break;
          case 'signature': sig2 = mutateChar(sig, at, B64URL); break;
          case 'key': key2[at % 32] = (key2[at % 32]! + delta) % 256; break;
        }
        expect(signatureMatches(key2, s2, t2, n2, b2, sig2)).toBe(false);
      }), { numRuns: 500 });
  });

  it('matches the worked example of docs/auth.md byte for byte', () => {
    const sessionKey = Buffer.from('AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA', 'base64url');
    const body = Buffer.from('{"keyId":"alias/orders","plaintext":"aGVsbG8="}', 'utf8');
    expect(canonicalRequest('ekm.v1.keys.encrypt', '1767225600000', 'AAECAwQFBgcICQoLDA0ODw', body)).toBe(
      'ekm-req-v1\nekm.v1.keys.encrypt\n1767225600000\nAAECAwQFBgcICQoLDA0ODw\n50a111d39a6f7657efa079658d649640b22980c2c26c1b69773ab7194a72e2dc');
    expect(requestMac(sessionKey, 'ekm.v1.keys.encrypt', '1767225600000', 'AAECAwQFBgcICQoLDA0ODw', body).toString('base64url')).toBe('z2j9FBJx6YyItOsdMxg7bOuVE3tTZCZMtpq01g6xHNk');
  });

  it('signRequest sets all four headers, with a fresh nonce each time', () => {
    const session = { token: 'ekm1.x.y', sessionKey: key };
    const a = signRequest(session, 'ekm.v1.keys.encrypt', new Uint8Array(), 1000);
    const b = signRequest(session, 'ekm.v1.keys.encrypt', new Uint8Array(), 1000);
    expect(a['Ekm-Session']).toBe('ekm1.x.y');
    expect(a['Ekm-Timestamp']).toBe('1000');
    expect(a['Ekm-Nonce']).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(a['Ekm-Nonce']).not.toBe(b['Ekm-Nonce']);
    expect(signatureMatches(key, 'ekm.v1.keys.encrypt', '1000', a['Ekm-Nonce'], new Uint8Array(), a['Ekm-Signature'])).toBe(true);
  });
});
