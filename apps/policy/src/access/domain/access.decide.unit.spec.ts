import fc from 'fast-check';
import { decidePolicy, foldPolicy, type PolicyCommand, type PolicyEvent } from './policy.decide';
import { decidePrincipal, foldPrincipal } from './principal.decide';
import { canAdminister } from './admin.rules';
import { isCredentialValid, type CommandMeta, type ExistingPrincipal, type PrincipalCommand, type PrincipalEvent } from './principal.types';

const T0 = '2027-01-01T00:00:00.000Z';
const at = (now: string): CommandMeta => ({ actor: 'admin', now });
const meta = at(T0);
const P = 'p-1';
const cred = (n: number) => ({ credentialId: `cred-${n}`, publicKey: `pub-${n}` });

const create: PrincipalCommand = { type: 'CreatePrincipal', data: { principalId: P, tenant: 'acme', roles: ['app', 'app'], kind: 'service', name: 'indexer', credential: cred(1) }, meta };

/** given(events).when(command) → then accepted events or a rejection code; a rejection appends nothing. */
function givenPrincipal(...history: PrincipalEvent[]) {
  return {
    when: (cmd: PrincipalCommand) => {
      const d = decidePrincipal(cmd, foldPrincipal(history));
      return {
        thenEvents: (...types: string[]) => { expect(d.ok && d.events.map((e) => e.type)).toEqual(types); return d.ok ? d.events : []; },
        thenRejects: (code: string) => { expect(d.ok ? 'accepted' : d.rejection.code).toBe(code); },
        state: () => foldPrincipal([...history, ...(d.ok ? d.events : [])]),
      };
    },
  };
}
const created = (): PrincipalEvent[] => { const d = decidePrincipal(create, { status: 'Absent' }); if (!d.ok) throw new Error('setup'); return d.events; };

describe('principal decider', () => {
  it('create issues the principal and its first credential (verifier only); roles deduplicated', () => {
    const events = givenPrincipal().when(create).thenEvents('PrincipalCreated', 'CredentialIssued');
    expect(events[0].data).toMatchObject({ roles: ['app'], tenant: 'acme' });
    expect(JSON.stringify(events)).not.toMatch(/privateKey/);
  });

  it('create twice is PRINCIPAL_EXISTS', () => givenPrincipal(...created()).when(create).thenRejects('PRINCIPAL_EXISTS'));

  it('rotate: old and new both valid during the grace period, only the new one after it', () => {
    const t = givenPrincipal(...created()).when({ type: 'RotateCredential', data: { principalId: P, credential: cred(2), graceSeconds: 60 }, meta });
    t.thenEvents('CredentialRotated');
    const s = t.state() as ExistingPrincipal;
    const during = '2027-01-01T00:00:30.000Z';
    const after = '2027-01-01T00:01:00.000Z';
    expect(isCredentialValid(s.credentials.get('cred-1')!, during)).toBe(true);
    expect(isCredentialValid(s.credentials.get('cred-2')!, during)).toBe(true);
    expect(isCredentialValid(s.credentials.get('cred-1')!, after)).toBe(false);
    expect(isCredentialValid(s.credentials.get('cred-2')!, after)).toBe(true);
  });

  it('rotate to an existing credential id is CREDENTIAL_EXISTS', () =>
    givenPrincipal(...created()).when({ type: 'RotateCredential', data: { principalId: P, credential: cred(1), graceSeconds: 0 }, meta }).thenRejects('CREDENTIAL_EXISTS'));

  it('revoke credential, then again: CREDENTIAL_REVOKED; unknown: CREDENTIAL_NOT_FOUND', () => {
    const revoke = (id: string): PrincipalCommand => ({ type: 'RevokeCredential', data: { principalId: P, credentialId: id, reason: 'leaked' }, meta });
    const events = givenPrincipal(...created()).when(revoke('cred-1')).thenEvents('CredentialRevoked');
    givenPrincipal(...created(), ...events).when(revoke('cred-1')).thenRejects('CREDENTIAL_REVOKED');
    givenPrincipal(...created()).when(revoke('cred-9')).thenRejects('CREDENTIAL_NOT_FOUND');
  });

  it('revoked principals accept no further commands; unknown ones are PRINCIPAL_NOT_FOUND', () => {
    const revoke: PrincipalCommand = { type: 'RevokePrincipal', data: { principalId: P, reason: 'left' }, meta };
    const events = givenPrincipal(...created()).when(revoke).thenEvents('PrincipalRevoked');
    givenPrincipal(...created(), ...events).when(revoke).thenRejects('PRINCIPAL_REVOKED');
    givenPrincipal(...created(), ...events).when({ type: 'RotateCredential', data: { principalId: P, credential: cred(3), graceSeconds: 0 }, meta }).thenRejects('PRINCIPAL_REVOKED');
    givenPrincipal().when(revoke).thenRejects('PRINCIPAL_NOT_FOUND');
  });

  it('property: after any accepted command sequence at most one credential has no end date unless revoked, and a revoked principal stays revoked', () => {
    const cmdArb = fc.oneof(
      fc.nat(5).map((n): PrincipalCommand => ({ type: 'RotateCredential', data: { principalId: P, credential: cred(n + 2), graceSeconds: n * 10 }, meta })),
      fc.nat(7).map((n): PrincipalCommand => ({ type: 'RevokeCredential', data: { principalId: P, credentialId: `cred-${n}`, reason: 'r' }, meta })),
      fc.constant<PrincipalCommand>({ type: 'RevokePrincipal', data: { principalId: P, reason: 'r' }, meta }),
    );
    fc.assert(fc.property(fc.array(cmdArb, { maxLength: 12 }), (cmds) => {
      let history = created();
      let revoked = false;
      for (const c of cmds) {
        const d = decidePrincipal(c, foldPrincipal(history));
        if (d.ok) history = [...history, ...d.events];
        const s = foldPrincipal(history);
        if (revoked) expect(s.status).toBe('Revoked');
        revoked = s.status === 'Revoked';
        if (s.status !== 'Absent') expect([...s.credentials.values()].filter((x) => x.status === 'Active' && x.validUntil === null).length).toBeLessThanOrEqual(1);
      }
    }));
  });
});

describe('policy decider', () => {
  const doc = { statements: [{ sid: 's', effect: 'allow' as const, roles: ['app'], actions: ['keys:*'], resources: ['*'] }] };
  const put = (tenant = 'acme', expectedVersion?: number): PolicyCommand => ({ type: 'PutPolicy', data: { policyId: 'pol', tenant, document: doc, ...(expectedVersion !== undefined ? { expectedVersion } : {}) }, meta });
  const del = (tenant = 'acme'): PolicyCommand => ({ type: 'DeletePolicy', data: { policyId: 'pol', tenant }, meta });
  const run = (history: PolicyEvent[], cmd: PolicyCommand) => decidePolicy(cmd, foldPolicy(history));
  const events = (history: PolicyEvent[], cmd: PolicyCommand): PolicyEvent[] => { const d = run(history, cmd); if (!d.ok) throw new Error(d.rejection.code); return d.events; };

  it('put creates version 1, put again version 2; delete then put continues the numbering', () => {
    const v1 = events([], put());
    expect(v1[0].data.version).toBe(1);
    const v2 = events(v1, put());
    expect(v2[0].data.version).toBe(2);
    const d = events([...v1, ...v2], del());
    expect(d[0]).toMatchObject({ type: 'PolicyDeleted', data: { version: 2 } });
    expect(events([...v1, ...v2, ...d], put())[0].data.version).toBe(3);
  });

  it('rejections: another tenant (put: owned elsewhere; delete: not found), version mismatch, delete of absent/deleted', () => {
    const v1 = events([], put());
    const code = (h: PolicyEvent[], c: PolicyCommand) => { const d = run(h, c); return d.ok ? 'accepted' : d.rejection.code; };
    expect(code(v1, put('globex'))).toBe('POLICY_OWNED_ELSEWHERE');
    expect(code(v1, del('globex'))).toBe('POLICY_NOT_FOUND');
    expect(code(v1, put('acme', 5))).toBe('POLICY_VERSION_MISMATCH');
    expect(code(v1, put('acme', 1))).toBe('accepted');
    expect(code([], del())).toBe('POLICY_NOT_FOUND');
    expect(code([...v1, ...events(v1, del())], del())).toBe('POLICY_NOT_FOUND');
  });
});

describe('canAdminister', () => {
  it('admin role within its tenant; operator scope everywhere; nobody without the role', () => {
    expect(canAdminister({ principalId: 'a', tenant: 'acme', roles: ['admin'] }, 'acme')).toBe(true);
    expect(canAdminister({ principalId: 'a', tenant: 'acme', roles: ['admin'] }, 'globex')).toBe(false);
    expect(canAdminister({ principalId: 'a', tenant: 'acme', roles: ['admin'] }, '*')).toBe(false);
    expect(canAdminister({ principalId: 'o', tenant: '*', roles: ['admin'] }, 'globex')).toBe(true);
    expect(canAdminister({ principalId: 'o', tenant: '*', roles: ['app'] }, 'acme')).toBe(false);
  });
});
