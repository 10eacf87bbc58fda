import fc from 'fast-check';
import { evaluate, PolicySet, simulate } from './evaluate';
import type { Condition, DecisionRequest, Policy, PrincipalFacts, Statement } from './policy.types';

const tenants = ['ta', 'tb', 'tc', '*'] as const;
const actions = ['keys:GenerateDataKey', 'keys:Decrypt', 'keys:Encrypt', 'keys:DescribeKey', 'keys:ListKeys'];
const actionPatterns = [...actions, 'keys:*', 'keys:Generate*', '*', 'keys:De?rypt'];
const keyIds = ['k1', 'k2', 'k3'];
const resourcePatterns = ['*', 'k1', 'k*', 'alias/app-*', 'alias/other', 'tenant:ta', 'tenant:tb', 'tag:env=prod', 'tag:env=*'];
const principalIds = ['p1', 'p2', 'p3'];
const roles = ['admin', 'app', 'reader'];

const condition: fc.Arbitrary<Condition> = fc.oneof(
  fc.record({ op: fc.constant('equals' as const), key: fc.constantFrom('collection', 'asset'), value: fc.constantFrom('c1', 'c2') }),
  fc.record({ op: fc.constant('in' as const), key: fc.constantFrom('collection'), values: fc.subarray(['c1', 'c2', 'c3'], { minLength: 1 }) }),
  fc.record({ op: fc.constant('glob' as const), key: fc.constantFrom('collection'), pattern: fc.constantFrom('c*', 'x?') }),
  fc.record({ op: fc.constant('present' as const), key: fc.constantFrom('collection', 'asset') }),
  fc.record({ op: fc.constant('before' as const), time: fc.constantFrom('2026-01-01T00:00:00Z', '2030-01-01T00:00:00Z') }),
  fc.record({ op: fc.constant('after' as const), time: fc.constantFrom('2026-01-01T00:00:00Z', '2030-01-01T00:00:00Z') }),
);

const statement = (sid: string): fc.Arbitrary<Statement> => fc.record({
  sid: fc.constant(sid),
  effect: fc.constantFrom('allow' as const, 'deny' as const),
  principals: fc.option(fc.subarray([...principalIds, '*'], { minLength: 1 }), { nil: undefined }),
  roles: fc.subarray(roles, { minLength: 1 }),
  actions: fc.subarray(actionPatterns, { minLength: 1 }),
  resources: fc.subarray(resourcePatterns, { minLength: 1 }),
  conditions: fc.option(fc.array(condition, { maxLength: 2 }), { nil: undefined }),
}, { requiredKeys: ['sid', 'effect', 'actions', 'resources', 'roles'] });

const policy = (i: number): fc.Arbitrary<Policy> => fc.record({
  policyId: fc.constant(`pol-${i}`),
  tenant: fc.constantFrom(...tenants),
  version: fc.constant(1),
  document: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }).chain((xs) => fc.tuple(...xs.map((_, j) => statement(`s${j}`))).map((statements) => ({ statements }))),
});

const policies: fc.Arbitrary<Policy[]> = fc.array(fc.nat(), { maxLength: 6 }).chain((xs) => (xs.length === 0 ? fc.constant([]) : fc.tuple(...xs.map((_, i) => policy(i)))));

const principal: fc.Arbitrary<PrincipalFacts> = fc.record({
  principalId: fc.constantFrom(...principalIds),
  tenant: fc.constantFrom(...tenants),
  roles: fc.subarray(roles),
  status: fc.constantFrom('Active' as const, 'Active' as const, 'Revoked' as const),
});

const request: fc.Arbitrary<DecisionRequest> = fc.record({
  principal,
  action: fc.constantFrom(...actions),
  resource: fc.record({
    keyId: fc.option(fc.constantFrom(...keyIds), { nil: undefined }),
    tenant: fc.option(fc.constantFrom('ta', 'tb', 'tc'), { nil: undefined }),
    tags: fc.constantFrom<Record<string, string>>({}, { env: 'prod' }, { env: 'dev' }),
    aliases: fc.subarray(['alias/app-1', 'alias/other']),
  }),
  encryptionContext: fc.constantFrom<Record<string, string>>({}, { collection: 'c1' }, { collection: 'c2', asset: 'a' }, { collection: 'x1' }),
  now: fc.constantFrom('2025-06-01T00:00:00Z', '2028-06-01T00:00:00Z', '2031-06-01T00:00:00Z'),
});

describe('evaluator properties', () => {
  it('default deny: with no policies nothing is allowed', () => {
    fc.assert(fc.property(request, (req) => {
      expect(evaluate(PolicySet.empty, req).allowed).toBe(false);
    }));
  });

  it('an allow is always backed by a matching allow statement and no matching deny', () => {
    fc.assert(fc.property(policies, request, (ps, req) => {
      const d = simulate(PolicySet.of(ps), req);
      const matched = d.trace.filter((t) => t.outcome === 'matched');
      if (d.allowed) {
        expect(matched.some((t) => t.effect === 'allow' && t.policyId === d.policyId && t.statementId === d.statementId)).toBe(true);
        expect(matched.some((t) => t.effect === 'deny')).toBe(false);
      }
      if (matched.some((t) => t.effect === 'deny')) expect(d.allowed).toBe(false);
    }));
  });

  it('deny wins: adding a matching deny statement to any policy set turns any allow into a deny', () => {
    fc.assert(fc.property(policies, request, (ps, req) => {
      const denyAll: Policy = { policyId: 'zzz-deny', tenant: req.principal.tenant, version: 1, document: { statements: [{ sid: 'deny', effect: 'deny', principals: ['*'], actions: ['*'], resources: ['*'] }] } };
      const d = evaluate(PolicySet.of([...ps, denyAll]), req);
      expect(d.allowed).toBe(false);
    }));
  });

  it('tenant isolation: no policy set lets a principal of tenant A act on a resource of tenant B (or of no tenant)', () => {
    fc.assert(fc.property(policies, request, fc.constantFrom('ta', 'tb', 'tc'), (ps, req, own) => {
      const p = { ...req.principal, tenant: own };
      // Add allow-everything policies in every scope: isolation must hold regardless of content.
      const allowAll = tenants.map((t, i): Policy => ({ policyId: `allow-${i}`, tenant: t, version: 1, document: { statements: [{ sid: 'all', effect: 'allow', principals: ['*'], roles, actions: ['*'], resources: ['*'] }] } }));
      const d = evaluate(PolicySet.of([...ps, ...allowAll]), { ...req, principal: p });
      if (req.resource.tenant !== own) expect(d.allowed).toBe(false);
    }));
  });

  it('a revoked principal is never allowed', () => {
    fc.assert(fc.property(policies, request, (ps, req) => {
      expect(evaluate(PolicySet.of(ps), { ...req, principal: { ...req.principal, status: 'Revoked' } }).allowed).toBe(false);
    }));
  });

  it('deterministic: same decision for the same inputs, whatever the order policies arrive in', () => {
    fc.assert(fc.property(policies, request, (ps, req) => {
      const a = simulate(PolicySet.of(ps), req);
      const b = simulate(PolicySet.of([...ps].reverse()), req);
      expect(b).toEqual(a);
      expect(evaluate(PolicySet.of(ps), req)).toEqual({ allowed: a.allowed, reason: a.reason, ...(a.policyId ? { policyId: a.policyId, statementId: a.statementId } : {}) });
    }));
  });
});
