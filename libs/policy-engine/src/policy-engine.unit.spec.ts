import { evaluate, PolicySet, simulate } from './evaluate';
import { parsePolicyDocument } from './policy-document.schema';
import type { DecisionRequest, Policy, PolicyDocument } from './policy.types';

const doc = (d: PolicyDocument): PolicyDocument => d;
const pol = (policyId: string, tenant: string, document: PolicyDocument): Policy => ({ policyId, tenant, version: 1, document });
const req = (over: Partial<DecisionRequest> = {}): DecisionRequest => ({
  principal: { principalId: 'p-app', tenant: 'acme', roles: ['app'], status: 'Active' },
  action: 'keys:GenerateDataKey',
  resource: { keyId: 'k-1', tenant: 'acme', tags: { env: 'prod' }, aliases: ['alias/app-data'] },
  encryptionContext: { collection: 'docs' },
  now: '2027-01-01T00:00:00Z',
  ...over,
});

describe('parsePolicyDocument', () => {
  it('accepts a full document', () => {
    const r = parsePolicyDocument({
      description: 'app may use its keys for the docs collection',
      statements: [
        { sid: 'use', effect: 'allow', roles: ['app'], actions: ['keys:Generate*', 'keys:Decrypt'], resources: ['alias/app-*', 'tag:env=prod'],
          conditions: [{ op: 'equals', key: 'collection', value: 'docs' }, { op: 'before', time: '2030-01-01T00:00:00Z' }] },
        { sid: 'no-destroy', effect: 'deny', principals: ['*'], actions: ['keys:DestroyKey'], resources: ['*'] },
      ],
    });
    expect(r.ok).toBe(true);
  });

  it.each([
    [{ statements: [] }, 'statements: must have at least 1 items'],
    [{ statements: [{ sid: 's', effect: 'permit', roles: ['a'], actions: ['keys:*'], resources: ['*'] }] }, 'statements[0].effect: must be one of "allow", "deny"'],
    [{ statements: [{ sid: 's', effect: 'allow', actions: ['keys:*'], resources: ['*'] }] }, 'statements[0].principals: must name principals or roles (or both)'],
    [{ statements: [{ sid: 's', effect: 'allow', roles: ['a'], actions: ['Decrypt'], resources: ['*'] }] }, 'statements[0].actions[0]: must be * or <service>:<Operation>'],
    [{ statements: [{ sid: 's', effect: 'allow', roles: ['a'], actions: ['keys:*'], resources: ['*'], conditions: [{ op: 'equals', key: 'c' }] }] }, 'statements[0].conditions[0].value: is required'],
    [{ statements: [{ sid: 's', effect: 'allow', roles: ['a'], actions: ['keys:*'], resources: ['*'], conditions: [{ op: 'near', key: 'c' }] }] }, 'statements[0].conditions[0]'],
    [{ statements: [{ sid: 's', effect: 'allow', roles: ['a'], actions: ['keys:*'], resources: ['*'], conditions: [{ op: 'after', time: 'tomorrow' }] }] }, 'statements[0].conditions[0].time: must be an ISO-8601 date-time'],
    [{ statements: [{ sid: 's', effect: 'allow', roles: ['a'], actions: ['keys:*'], resources: ['*'], extra: 1 }] }, 'statements[0]: has unknown field extra'],
    [{ statements: [{ sid: 's', effect: 'allow', roles: ['a'], actions: ['keys:*'], resources: ['*'] }, { sid: 's', effect: 'deny', roles: ['a'], actions: ['keys:*'], resources: ['*'] }] }, 'statements[1].sid: duplicates an earlier statement id s'],
  ])('rejects %j naming the path', (input, expected) => {
    const r = parsePolicyDocument(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => `${i.path}: ${i.rule}`).join('; ')).toContain(expected);
  });
});

describe('evaluate', () => {
  const appPolicy = pol('pol-app', 'acme', doc({ statements: [
    { sid: 'gen', effect: 'allow', roles: ['app'], actions: ['keys:Generate*'], resources: ['alias/app-*'], conditions: [{ op: 'in', key: 'collection', values: ['docs', 'chunks'] }] },
  ] }));

  it('default deny names the action, resource and principal', () => {
    expect(evaluate(PolicySet.empty, req())).toEqual({ allowed: false, reason: 'no statement allows keys:GenerateDataKey on key k-1 for principal p-app' });
  });

  it('allows through a role, an alias glob and an `in` condition; context outside the set is denied', () => {
    const set = PolicySet.of([appPolicy]);
    expect(evaluate(set, req())).toMatchObject({ allowed: true, policyId: 'pol-app', statementId: 'gen' });
    expect(evaluate(set, req({ encryptionContext: { collection: 'other' } })).allowed).toBe(false);
    expect(evaluate(set, req({ action: 'keys:Decrypt' })).allowed).toBe(false);
  });

  it('an explicit deny wins over an allow and is named', () => {
    const deny = pol('pol-deny', 'acme', doc({ statements: [{ sid: 'prod-lock', effect: 'deny', principals: ['*'], actions: ['keys:*'], resources: ['tag:env=prod'], conditions: [{ op: 'after', time: '2026-06-01T00:00:00Z' }] }] }));
    const set = PolicySet.of([appPolicy, deny]);
    expect(evaluate(set, req())).toEqual({ allowed: false, policyId: 'pol-deny', statementId: 'prod-lock', reason: 'denied by policy pol-deny statement prod-lock' });
    expect(evaluate(set, req({ now: '2026-01-01T00:00:00Z' })).allowed).toBe(true);
  });

  it('tenant isolation holds against an operator allow-all, and the reason never names the other tenant', () => {
    const allowAll = pol('pol-op', '*', doc({ statements: [{ sid: 'all', effect: 'allow', principals: ['*'], actions: ['*'], resources: ['*'] }] }));
    const set = PolicySet.of([allowAll]);
    const d = evaluate(set, req({ resource: { keyId: 'k-9', tenant: 'globex' } }));
    expect(d).toEqual({ allowed: false, reason: 'key k-9 is not in tenant acme' });
    expect(evaluate(set, req({ action: 'keys:ListKeys', resource: {} })).reason).toMatch(/names no tenant/);
    const operator = { principalId: 'op', tenant: '*', roles: ['admin'], status: 'Active' as const };
    expect(evaluate(set, req({ principal: operator, resource: { keyId: 'k-9', tenant: 'globex' } })).allowed).toBe(true);
  });

  it("a tenant's policy does not apply to another tenant's principals", () => {
    const other = pol('pol-globex', 'globex', doc({ statements: [{ sid: 'all', effect: 'allow', principals: ['*'], actions: ['*'], resources: ['*'] }] }));
    expect(evaluate(PolicySet.of([other]), req()).allowed).toBe(false);
  });

  it('simulate traces each statement with the first part that did not match', () => {
    const set = PolicySet.of([appPolicy]);
    expect(simulate(set, req({ encryptionContext: {} })).trace).toEqual([{ policyId: 'pol-app', statementId: 'gen', effect: 'allow', outcome: 'condition[0]' }]);
    expect(simulate(set, req({ resource: { keyId: 'k-1', tenant: 'acme', aliases: ['alias/x'] } })).trace[0].outcome).toBe('resource');
  });
});
