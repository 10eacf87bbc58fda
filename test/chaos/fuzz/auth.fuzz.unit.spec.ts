import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import {
  AuthFailureReason, CredentialFileError, LoginRequestSchema, NONCE_HEADER, RequestAuthenticator, RevocationList, SESSION_HEADER, SessionSealer,
  SIGNATURE_HEADER, TIMESTAMP_HEADER, generatePrincipalCredential, parseCredentialFile, signRequest, signatureMatches, toCredentialFile, verifyLoginProof,
} from '@ekm/auth';
import { parseRequest } from '@ekm/contracts';
import { anyBody, fuzz, fuzzReport } from './fuzz-support';

const SECRET = 'fuzz-secret-0123456789-0123456789-abcdef';
const sealer = new SessionSealer(SECRET);
const reasons = new Set<string>(Object.values(AuthFailureReason));
const now = 1_800_000_000_000;

/** A token MACed with the real secret around arbitrary claims JSON: what a secret holder (or a bug) could mint. */
function sealedAround(claimsJson: string): string {
  const tokenKey = createHmac('sha256', SECRET).update('ekm-session-token-v1').digest();
  const body = `ekm1.${Buffer.from(claimsJson, 'utf8').toString('base64url')}`;
  return `${body}.${createHmac('sha256', tokenKey).update(body).digest('base64url')}`;
}

const typedOpened = (r: unknown): void => {
  const o = r as { ok: boolean; reason?: string };
  if (!o.ok) expect(reasons.has(o.reason!)).toBe(true);
};

afterAll(() => console.log(`auth fuzzing\n${fuzzReport()}`));

describe('session token open', () => {
  it('arbitrary strings, and mutations of a real token: typed SESSION_INVALID, never a throw', () => {
    const real = sealer.issue({ principalId: 'p', tenant: 't', roles: ['admin'], now }).token;
    const mutated = fc.tuple(fc.nat(real.length - 1), fc.string({ minLength: 0, maxLength: 3 })).map(([i, s]) => real.slice(0, i) + s + real.slice(i + 1));
    const arb = fc.oneof(fc.string({ unit: 'binary', maxLength: 5000 }), fc.string().map((s) => `ekm1.${s}`), mutated, fc.constant('ekm1.'.padEnd(5000, 'A')));
    fuzz('auth.SessionSealer.open', arb, (t) => sealer.open(t), [], { numRuns: 2000, check: typedOpened });
  });

  it('correctly MACed but arbitrary claims JSON: typed result, never a throw', () => {
    const claims = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc.record({ sid: fc.jsonValue(), pid: fc.jsonValue(), ten: fc.jsonValue(), rol: fc.jsonValue(), iat: fc.jsonValue(), exp: fc.jsonValue(), cid: fc.jsonValue() }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
      fc.constantFrom('null', '1', '"x"', '[]', '{"sid":"s","pid":"p","ten":"t","rol":[{"toString":1}],"iat":1,"exp":2}', '{"sid":"s","pid":"p","ten":"t","rol":[null,{}],"iat":1,"exp":2}'),
      fc.string({ unit: 'binary', maxLength: 200 }),
    );
    fuzz('auth.SessionSealer.open (sealed)', claims, (c) => sealer.open(sealedAround(c)), [], { numRuns: 1000, check: typedOpened });
  });
});

describe('request signature verification', () => {
  const session = sealer.issue({ principalId: 'p', tenant: 't', roles: ['admin'], now });
  const auth = new RequestAuthenticator({ mode: 'required', sealer, revocations: new RevocationList(60_000), clock: () => now });
  const header = fc.option(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ maxLength: 5000 }), fc.constant(session.token)), { nil: undefined });

  it('arbitrary headers, subject and body: a typed AuthResult, never a throw', () => {
    const arb = fc.record({ subject: fc.string({ maxLength: 100 }), body: fc.uint8Array({ maxLength: 2000 }), s: header, t: header, n: header, g: header });
    fuzz('auth.RequestAuthenticator.authenticate', arb, (r) => {
      const h: Record<string, string | undefined> = { [SESSION_HEADER]: r.s, [TIMESTAMP_HEADER]: r.t, [NONCE_HEADER]: r.n, [SIGNATURE_HEADER]: r.g };
      return auth.authenticate({ subject: r.subject, body: r.body, header: (k) => h[k] });
    }, [], { numRuns: 2000, check: (res) => { expect((res as { ok: boolean }).ok).toBe(false); typedOpened(res); } });
  });

  it('a genuine signature with one field altered is refused, typed', () => {
    const arb = fc.record({ body: fc.uint8Array({ maxLength: 500 }), flip: fc.constantFrom('subject', 'body', 'timestamp', 'nonce'), extra: fc.uint8Array({ minLength: 1, maxLength: 4 }) });
    fuzz('auth.signatureMatches (altered)', arb, ({ body, flip, extra }) => {
      const h = signRequest(session, 'ekm.v1.keys.encrypt', body, { now, requestId: 'req-1' });
      const ts = flip === 'timestamp' ? String(Number(h[TIMESTAMP_HEADER]) + 1) : h[TIMESTAMP_HEADER];
      const nonce = flip === 'nonce' ? `${h[NONCE_HEADER].slice(1)}A` : h[NONCE_HEADER];
      const b = flip === 'body' ? Buffer.concat([body, extra]) : body;
      const subject = flip === 'subject' ? 'ekm.v1.keys.decrypt' : 'ekm.v1.keys.encrypt';
      return signatureMatches(session.sessionKey, { subject, timestamp: ts, nonce, requestId: 'req-1' }, b, h[SIGNATURE_HEADER]);
    }, [], { numRuns: 300, check: (ok) => expect(ok).toBe(false) });
  });
});

describe('credential file parse', () => {
  const good = toCredentialFile('p', generatePrincipalCredential());
  it('arbitrary text and hostile JSON: only CredentialFileError, never echoing the key', () => {
    const arb = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 3000 }),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc.record({ principalId: fc.jsonValue(), credentialId: fc.jsonValue(), privateKey: fc.oneof(fc.base64String({ maxLength: 200 }), fc.jsonValue()), natsUrl: fc.jsonValue() }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
      fc.base64String({ minLength: 4, maxLength: 400 }).map((k) => JSON.stringify({ ...good, privateKey: k })),
    );
    fuzz('auth.parseCredentialFile', arb, (t) => {
      try {
        return parseCredentialFile(t);
      } catch (e) {
        if (e instanceof CredentialFileError) expect(e.message).not.toContain(good.privateKey);
        throw e;
      }
    }, [CredentialFileError], { numRuns: 1000 });
  });
});

describe('login proof', () => {
  const cred = generatePrincipalCredential();
  it('arbitrary bodies through LoginRequestSchema, then verifyLoginProof: typed, never a throw', () => {
    const shaped = fc.record({
      principalId: fc.string({ minLength: 1, maxLength: 200 }), credentialId: fc.string({ minLength: 1, maxLength: 200 }),
      timestamp: fc.oneof(fc.constant(now), fc.nat()), nonce: fc.stringMatching(/^[A-Za-z0-9_-]{16,64}$/), signature: fc.stringMatching(/^[A-Za-z0-9_-]{86}$/),
    });
    fuzz('auth.login (parse + verify)', fc.oneof(anyBody, shaped), (b) => {
      const parsed = parseRequest(LoginRequestSchema, b);
      if (!parsed.ok) return parsed;
      return verifyLoginProof(parsed.data, cred.publicKey, now);
    }, [], { numRuns: 1000, check: (r) => { if (!(r as { ok: boolean }).ok && 'reason' in (r as object)) typedOpened(r); } });
  });

  it('hostile verifiers (stored public key) are a typed refusal', () => {
    const req = { principalId: 'p', credentialId: 'c', timestamp: now, nonce: 'A'.repeat(22), clientKey: 'A'.repeat(43), signature: 'A'.repeat(86) };
    fuzz('auth.verifyLoginProof (verifier)', fc.string({ unit: 'binary', maxLength: 500 }), (v) => verifyLoginProof(req, v, now), [], { numRuns: 500, check: typedOpened });
  });
});
