import { AuthFailureReason as R } from './auth.types';
import { NonceCache } from './nonce-cache';
import { RequestAuthenticator, type IncomingRequest } from './request-authenticator';
import { signRequest } from './request-signature';
import { RevocationList } from './revocation-list';
import { SessionSealer } from './session-token';

const T0 = 1_767_225_600_000;
const subject = 'ekm.v1.keys.encrypt';
const body = Buffer.from('{"keyId":"k"}');

function setup() {
  let now = T0;
  const sealer = new SessionSealer('unit-secret-0123456789-0123456789-xx');
  const revocations = new RevocationList(11 * 60_000);
  const auth = new RequestAuthenticator({ mode: 'required', sealer, revocations, nonces: new NonceCache(), clock: () => now });
  const session = sealer.issue({ principalId: 'svc-a', credentialId: 'cred-a', tenant: 't1', roles: ['user'], ttlMs: 600_000, now: T0 });
  const request = (h: Record<string, string>, s = subject, b: Uint8Array = body): IncomingRequest => ({ subject: s, body: b, header: (n) => h[n] });
  const signed = (at = now, s = subject, b: Uint8Array = body) => ({ ...signRequest(session, s, b, { now: at, requestId: 'req-1' }) }) as Record<string, string>;
  return { auth, session, sealer, revocations, request, signed, setNow: (t: number) => { now = t; } };
}

describe('RequestAuthenticator', () => {
  it('accepts a valid signed request and yields the session principal', () => {
    const { auth, request, signed, session } = setup();
    expect(auth.authenticate(request(signed()))).toEqual({ ok: true, principal: { principalId: 'svc-a', tenant: 't1', roles: ['user'], sessionId: session.claims.sessionId }, sessionKey: session.sessionKey, nonce: { scope: session.claims.sessionId, nonce: expect.any(String), expiresAt: T0 + 30_000 } });
  });

  it.each([
    ['no headers', () => ({}), R.MissingCredentials],
    ['no signature', (h: Record<string, string>) => ({ ...h, 'Ekm-Signature': '' }), R.MissingCredentials],
    ['bad timestamp syntax', (h: Record<string, string>) => ({ ...h, 'Ekm-Timestamp': '12e5' }), R.MalformedCredentials],
    ['short nonce', (h: Record<string, string>) => ({ ...h, 'Ekm-Nonce': 'abc' }), R.MalformedCredentials],
    ['forged session token', (h: Record<string, string>) => ({ ...h, 'Ekm-Session': `${h['Ekm-Session']!.slice(0, -2)}AA` }), R.SessionInvalid],
    ['other nonce than signed', (h: Record<string, string>) => ({ ...h, 'Ekm-Nonce': 'ZZZZZZZZZZZZZZZZZZZZZZ' }), R.SignatureInvalid],
    ['other request id than signed', (h: Record<string, string>) => ({ ...h, 'Ekm-Request-Id': 'req-2' }), R.SignatureInvalid],
    ['request id dropped', (h: Record<string, string>) => ({ ...h, 'Ekm-Request-Id': '' }), R.SignatureInvalid],
    ['malformed request id', (h: Record<string, string>) => ({ ...h, 'Ekm-Request-Id': 'a b' }), R.MalformedCredentials],
  ])('%s → %s', (_n, change, reason) => {
    const { auth, request, signed } = setup();
    const r = auth.authenticate(request(change(signed())));
    expect(r).toMatchObject({ ok: false, reason });
  });

  it('body swap and subject swap under a valid signature are refused', () => {
    const { auth, request, signed } = setup();
    const h = signed();
    expect(auth.authenticate(request(h, subject, Buffer.from('{"keyId":"other"}')))).toEqual({ ok: false, reason: R.SignatureInvalid, principalClaimed: 'svc-a', tenantClaimed: 't1' });
    expect(auth.authenticate(request(h, 'ekm.v1.keys.decrypt'))).toEqual({ ok: false, reason: R.SignatureInvalid, principalClaimed: 'svc-a', tenantClaimed: 't1' });
    expect(auth.authenticate(request(h)).ok).toBe(true); // the untouched original still passes once
  });

  it('a replay is refused; a refused (unsigned) attempt does not burn the nonce', () => {
    const { auth, request, signed } = setup();
    const h = signed();
    expect(auth.authenticate(request({ ...h, 'Ekm-Signature': 'A'.repeat(43) }))).toMatchObject({ reason: R.SignatureInvalid });
    expect(auth.authenticate(request(h)).ok).toBe(true);
    expect(auth.authenticate(request(h))).toMatchObject({ ok: false, reason: R.Replayed });
  });

  it('timestamps more than 30 s old or ahead are refused; 30 s exactly passes', () => {
    const { auth, request, signed } = setup();
    expect(auth.authenticate(request(signed(T0 - 30_001)))).toMatchObject({ reason: R.TimestampSkew });
    expect(auth.authenticate(request(signed(T0 + 30_001)))).toMatchObject({ reason: R.TimestampSkew });
    expect(auth.authenticate(request(signed(T0 - 30_000))).ok).toBe(true);
    expect(auth.authenticate(request(signed(T0 + 30_000))).ok).toBe(true);
  });

  it('an expired session is refused', () => {
    const { auth, request, signed, setNow } = setup();
    setNow(T0 + 600_000);
    expect(auth.authenticate(request(signed()))).toMatchObject({ ok: false, reason: R.SessionExpired, principalClaimed: 'svc-a' });
  });

  it.each([
    [{ kind: 'principal', principalId: 'svc-a' } as const, R.PrincipalRevoked],
    [{ kind: 'credential', credentialId: 'cred-a' } as const, R.CredentialRevoked],
  ])('revocation %o → %s', (rev, reason) => {
    const { auth, request, signed, revocations } = setup();
    expect(auth.authenticate(request(signed())).ok).toBe(true);
    revocations.add(rev, T0);
    expect(auth.authenticate(request(signed()))).toMatchObject({ ok: false, reason });
  });

  it('a session revocation refuses only that session', () => {
    const { auth, request, signed, revocations, session, sealer } = setup();
    revocations.add({ kind: 'session', sessionId: session.claims.sessionId }, T0);
    expect(auth.authenticate(request(signed()))).toMatchObject({ reason: R.SessionRevoked });
    const other = sealer.issue({ principalId: 'svc-a', tenant: 't1', roles: [], now: T0 });
    expect(auth.authenticate(request({ ...signRequest(other, subject, body, { now: T0 }) })).ok).toBe(true);
  });

  it('the login subject needs no session; disabled mode is anonymous admin of tenant * (or the dev claim)', () => {
    const { auth, request } = setup();
    expect(auth.authenticate(request({}, 'ekm.v1.policy.login'))).toEqual({ ok: true, principal: null });
    const off = new RequestAuthenticator({ mode: 'disabled' });
    expect(off.authenticate(request({}))).toEqual({ ok: true, principal: { principalId: 'anonymous', tenant: '*', roles: ['admin'] } });
    expect(off.authenticate(request({ 'Ekm-Principal': 'dev-bob' }))).toMatchObject({ ok: true, principal: { principalId: 'dev-bob', tenant: '*' } });
  });
});

describe('NonceCache', () => {
  it('forgets a nonce only after 2 × skew + 1 s, and refuses when full', () => {
    const c = new NonceCache(2);
    expect(c.claim('s', 'n1', 0)).toBe('fresh');
    expect(c.claim('s', 'n1', 60_999)).toBe('replayed');
    expect(c.claim('other', 'n1', 1)).toBe('fresh');
    expect(c.claim('s', 'n2', 2)).toBe('full');
    expect(c.claim('s', 'n1', 61_000)).toBe('fresh');
    expect(c.size).toBe(2) // 'other' (until 62 001) and the re-claimed n1;
  });
});
