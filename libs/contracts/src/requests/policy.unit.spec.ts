import { validate } from '../validation';
import { DecideRequest, PutPolicyRequest, SimulateRequest } from './policy';

describe('policy service request schemas: actions', () => {
  const document = (action: string) => ({ statements: [{ sid: 's', effect: 'allow', roles: ['app'], actions: [action], resources: ['*'] }] });

  it('put-policy refuses a typo\'d action (EKM_VALIDATION naming the path and the valid actions)', () => {
    const r = validate(PutPolicyRequest, { policyId: 'p', tenant: 'acme', document: document('keys:Decryptt') });
    expect(r).toMatchObject({ ok: false, issues: [{ path: 'document.statements[0].actions[0]', rule: expect.stringMatching(/keys:Decryptt is not an action \(did you mean keys:Decrypt\?\); valid actions: .*keys:Encrypt/) }] });
    expect(validate(PutPolicyRequest, { policyId: 'p', tenant: 'acme', document: document('keys:Generate*') }).ok).toBe(true);
  });

  it('simulate needs one real action; decide stays a plain format check (services ask it, a typo there is their bug and is denied)', () => {
    const req = (action: string) => ({ principalId: 'p-1', action, resource: {} });
    expect(validate(SimulateRequest, req('keys:Decryptt')).ok).toBe(false);
    expect(validate(SimulateRequest, req('keys:Decrypt')).ok).toBe(true);
    expect(validate(DecideRequest, req('keys:Decryptt')).ok).toBe(true);
  });
});
