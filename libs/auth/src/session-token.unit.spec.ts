import fc from 'fast-check';
import { AuthFailureReason } from './auth.types';
import { SessionSealer } from './session-token';

const SECRET = 'test-secret-0123456789-0123456789-abcdef';

describe('SessionSealer', () => {
  const sealer = new SessionSealer(SECRET);

  it('opens what it issued, with the same claims and session key, on any other sealer of the same secret', () => {
    const s = sealer.issue({ principalId: 'svc-a', credentialId: 'cred-1', tenant: 't1', roles: ['reader'], ttlMs: 60_000, now: 1_000 });
    const other = new SessionSealer(SECRET).open(s.token);
    expect(other).toEqual({ ok: true, claims: s.claims, sessionKey: s.sessionKey });
    expect(s.claims).toMatchObject({ principalId: 'svc-a', credentialId: 'cred-1', tenant: 't1', roles: ['reader'], issuedAt: 1_000, expiresAt: 61_000 });
    expect(s.sessionKey).toHaveLength(32);
  });

  it('refuses tokens of another secret, and any single changed character', () => {
    const s = sealer.issue({ principalId: 'p', tenant: 't', roles: [] });
    expect(new SessionSealer(`${SECRET}x`).open(s.token)).toEqual({ ok: false, reason: AuthFailureReason.SessionInvalid });
    fc.assert(fc.property(fc.nat(), fc.constantFrom(...'ABCxyz019-_.'), (at, c) => {
      const i = at % s.token.length;
      fc.pre(s.token[i] !== c);
      const forged = s.token.slice(0, i) + c + s.token.slice(i + 1);
      const r = sealer.open(forged);
      // A change in the last character's unused bits can decode to the same MAC; the claims must then be identical.
      if (r.ok) expect(r.claims).toEqual(s.claims);
      else expect(r.reason).toBe(AuthFailureReason.SessionInvalid);
    }), { numRuns: 300 });
  });

  it('refuses garbage and a forged token with elevated claims', () => {
    for (const t of ['', 'ekm1.', 'ekm1..', 'x'.repeat(5000), 'ekm1.e30.AAAA']) expect(sealer.open(t).ok).toBe(false);
    const s = sealer.issue({ principalId: 'p', tenant: 't', roles: ['reader'] });
    const [, , mac] = s.token.split('.');
    const elevated = Buffer.from(JSON.stringify({ sid: 'x', pid: 'p', ten: '*', rol: ['admin'], iat: 0, exp: 9e15 })).toString('base64url');
    expect(sealer.open(`ekm1.${elevated}.${mac}`)).toEqual({ ok: false, reason: AuthFailureReason.SessionInvalid });
  });

  it('needs a secret of at least 32 characters', () => {
    expect(() => new SessionSealer('short')).toThrow(/at least 32/);
  });
});
